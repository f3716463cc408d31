// AnyDef sandbox host. The main thread owns the protocol: it connects to the private Unix socket the
// library created, reads newline-delimited JSON requests and answers each exactly once. Calls that wait for the
// worker are handed to it together (one message, one run of its loop, one message back, one socket write), each
// keeping its own deadline, cancellation and outcome. Python runs in a
// Worker with narrowed permissions, one function (one trust domain) per process. Timeouts are graceful,
// then forceful: interrupt Python at the deadline, and end this process if the call has not stopped after
// the grace period (a busy Worker cannot be terminated reliably, a process can).

import { openChannel } from "./transport.ts";

type Config = {
  socket: string;
  indexDir: string;
  moduleUrl: string;
  // "inherit" only in the library's tests of the operating-system wall, which run a host with broad permissions.
  workerPermissions: string[] | "inherit";
  snapshot?: string;
  // The snapshot's SHA-256 as the library verified it: the bytes read are checked against it before they are used.
  snapshotSha256?: string;
  makeSnapshot?: string;
  memoryBytes: number;
  graceMs: number;
  maxResultBytes: number;
  // The library's internal timing mode: every reply carries this side's durations.
  profile?: boolean;
};

type Request = {
  id: number;
  seq?: number;
  op: "load" | "call" | "doctest" | "cancel";
  code?: string;
  function?: string;
  args?: string;
  timeoutMs?: number;
  target?: number;
  // Set by this host: the request's number for interrupts, why it was stopped, and (timing mode) when it was read and posted.
  stop?: "timeout" | "cancelled";
  t0?: number;
  tp?: number;
};

// What the worker runs at a time: a group of calls, or one request of another kind.
// Everything the host decides (deadlines, which call runs, how many outcomes a group has) comes from this record; the
// worker's progress counter is a claim checked against it (`done`, `doneAt` are the last claim that passed).
type Job = {
  id: number;
  op: Request["op"];
  requests: Request[];
  start: number;
  answered: number;
  // How many outcomes the job can have: its calls (one for any other request).
  outcomes: number;
  done: number;
  doneAt: number;
  // Per call of a group: the latest moment it may still run, whatever the worker claims (all earlier calls used their full timeout).
  latest: number[];
};

// The most calls handed to the worker at once (the cancel flags have one slot per call of a group).
const MAX_GROUP = 256;

// The most characters of a call's captured output passed on; the worker cuts there too, but this is the cap it cannot patch away.
const OUTPUT_CAP = 64 * 1024;


const config: Config = JSON.parse(Deno.args[0]);
// The snapshot's read starts first, so that it runs while the worker starts (which blocks this thread for a while).
const snapshotRead = config.snapshot ? readWhole(config.snapshot).then(verified) : undefined;
const encoder = new TextEncoder();
const interrupt = new SharedArrayBuffer(1);
const interruptView = new Uint8Array(interrupt);
// control[0]: the request an interrupt is meant for; control[1]: the request whose own code Python has entered.
const control = new SharedArrayBuffer(8);
const controlView = new Int32Array(control);
let seq = 0;
// Progress of the running job, written by the worker after each call or input: [done, ms since the job began when
// the last one finished]. Deadlines read it, so they need no message from a worker that may be stuck.
const progress = new Int32Array(new SharedArrayBuffer(8));
// The outcomes the worker has not handed over yet, newline-separated, after a header [bytes used, index of the first].
const spill = new SharedArrayBuffer(8 + 1024 * 1024);
const spillHeader = new Int32Array(spill, 0, 2);
// One flag per call of the running group: set, the worker skips that call (cancelled or past its deadline before it began).
const cancel = new SharedArrayBuffer(MAX_GROUP);
const cancelView = new Uint8Array(cancel);

// The mailbox: groups of calls go to the worker and their outcomes come back through shared memory, with the worker
// blocked in Atomics.wait while it has nothing to do and this thread in Atomics.waitAsync (a round trip costs a
// third of a postMessage one). Anything else, and anything larger than the mailbox, travels by postMessage; the
// mailbox then only tells the worker to go and read its messages. The worker writes the outcomes, and Python can
// reach the worker's memory, so everything read back from here is checked as untrusted input. The worker gets this
// layout with init.
const BOX = {
  maxGroup: MAX_GROUP,
  inSeq: 0, inKind: 1, inJob: 2, inCount: 3, inBytes: 4,
  outSeq: 8, outJob: 9, outCount: 10, outBytes: 11, outSpent: 12, outFrom: 13,
  startAt: 64, tookAt: 72, inLensAt: 128, outLensAt: 128 + MAX_GROUP * 8, profsAt: 128 + MAX_GROUP * 16,
  inAt: 128 + MAX_GROUP * 40, inSize: 256 * 1024, outSize: 256 * 1024,
  calls: 1, messages: 2,
};
const mailbox = new SharedArrayBuffer(BOX.inAt + BOX.inSize + BOX.outSize);
const box = new Int32Array(mailbox, 0, 16);
const boxStart = new Float64Array(mailbox, BOX.startAt, 1);
// The average time in Python of the calls of the group a reply in the mailbox ends, in ms (written by the worker).
const boxTook = new Float64Array(mailbox, BOX.tookAt, 1);
const boxInLens = new Int32Array(mailbox, BOX.inLensAt, MAX_GROUP * 2);
const boxOutLens = new Int32Array(mailbox, BOX.outLensAt, MAX_GROUP * 2);
const boxProfs = new Float64Array(mailbox, BOX.profsAt, MAX_GROUP * 3);
const boxIn = new Uint8Array(mailbox, BOX.inAt, BOX.inSize);
const boxOutAt = BOX.inAt + BOX.inSize;

const worker = new Worker(new URL("./worker.ts", import.meta.url).href, {
  type: "module",
  // deno-lint-ignore no-explicit-any
  deno: {
    permissions: config.workerPermissions === "inherit" ? "inherit" : {
      read: config.workerPermissions,
      write: false,
      net: false,
      env: false,
      run: false,
      ffi: false,
      sys: false,
      import: false,
    },
  } as any,
});

// The protocol's framing in one place: newline-delimited JSON both ways. Replies written in the same turn of the
// event loop leave in one socket write.
class Channel {
  private out: string[] = [];
  private scheduled = false;
  private writing = Promise.resolve();

  constructor(private readonly conn: Deno.Conn) {}

  send(message: unknown) {
    this.out.push(JSON.stringify(message));
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  // Writes what is waiting; resolves when everything sent so far is written.
  flush(): Promise<void> {
    this.scheduled = false;
    if (this.out.length > 0) {
      const bytes = encoder.encode(this.out.join("\n") + "\n");
      this.out = [];
      this.writing = this.writing.then(async () => {
        let off = 0;
        while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
      });
    }
    return this.writing.catch(() => {});
  }

  async closeWrite() {
    try {
      await this.conn.closeWrite();
    } catch {
      // already closed
    }
  }

  // The requests in each read from the socket, together (so that calls arriving together are run together). Read
  // straight into one buffer (a stream reader costs a promise chain and a chunk per read); a line longer than the
  // buffer grows it, and only the bytes a read added are searched for the end of a line.
  async *requests(): AsyncGenerator<Request[]> {
    const decoder = new TextDecoder();
    let buffer = new Uint8Array(SMALL_READ);
    let start = 0, end = 0;
    while (true) {
      if (end === buffer.length) {
        if (start > 0) {
          buffer.copyWithin(0, start, end);
          end -= start;
          start = 0;
        } else {
          const larger = new Uint8Array(buffer.length * 2);
          larger.set(buffer);
          buffer = larger;
        }
      }
      const n = await this.conn.read(buffer.subarray(end));
      if (n === null) return;
      const from = end;
      end += n;
      const newline = buffer.subarray(from, end).lastIndexOf(10);
      if (newline < 0) continue;
      const last = from + newline;
      const text = decoder.decode(buffer.subarray(start, last));
      start = last + 1;
      if (start === end) {
        start = end = 0;
        // The memory of a large request goes once it has been read.
        if (buffer.length > SMALL_READ) buffer = new Uint8Array(SMALL_READ);
      }
      const requests: Request[] = [];
      for (const line of text.split("\n")) if (line) requests.push(JSON.parse(line));
      yield requests;
    }
  }
}

const SMALL_READ = 64 * 1024;

// Into a buffer of the file's size, in one read: Deno.readFile grows its buffer as it goes, which took two to three
// times as long for the 30 MB snapshot.
async function readWhole(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const bytes = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const n = await file.read(bytes.subarray(off));
    if (n === null) throw new Error(`the snapshot ${path} ended after ${off} of ${size} bytes`);
    off += n;
  }
  return bytes;
}

// The digest runs off this thread, while the worker starts.
async function verified(bytes: Uint8Array): Promise<Uint8Array> {
  if (!config.snapshotSha256) return bytes;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== config.snapshotSha256) {
    console.error(`anydef-snapshot-changed: ${config.snapshot} has SHA-256 ${hex}, not ${config.snapshotSha256}`);
    Deno.exit(3);
  }
  return bytes;
}

let snapshotBytes: Uint8Array | undefined = await snapshotRead;

function ended(code: number): never {
  Deno.exit(code);
}

if (config.makeSnapshot) {
  worker.onmessage = async (e: MessageEvent) => {
    if (e.data.type === "snapshot") {
      await Deno.writeFile(config.makeSnapshot!, e.data.bytes);
      ended(0);
    } else if (e.data.type === "fatal") {
      console.error(e.data.message);
      ended(2);
    }
  };
  worker.postMessage({ type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, progress, spill, cancel, maxResultBytes: config.maxResultBytes, makeSnapshot: true });
} else {
  await serve();
}

async function serve() {
  const conn = await openChannel(config);
  const channel = new Channel(conn);
  const send = (message: unknown) => channel.send(message);
  let readerDone: () => void = () => {};
  const drained = new Promise<void>((resolve) => (readerDone = resolve));

  const queue: Request[] = [];
  let job: Job | undefined;
  let jobs = 0;
  let dying = false;

  const hostItem = (kind: string, message: string) => JSON.stringify({ ok: false, host: kind, message });
  const lostMessage = "this call finished, but its result was lost when the sandbox process was ended by a later call";

  // A worker item is one flag character (0 plain, 1 MemoryError, 2 interrupted, 3 skipped) and the outcome's JSON
  // text. The flag travels beside the payload, so a result is only ever data.
  function tooLarge(text: string): boolean {
    // The worker checks the exact size; this is the backstop it cannot patch away (UTF-16 length <= UTF-8 bytes).
    return text.length > config.maxResultBytes + 64;
  }
  const tooLargeItem = () => hostItem("too_large", `the result is larger than the limit of ${config.maxResultBytes} bytes`);
  // A call's captured output as passed on: text, at most OUTPUT_CAP characters.
  const capOut = (out: unknown): string => (typeof out === "string" ? (out.length > OUTPUT_CAP ? out.slice(0, OUTPUT_CAP) : out) : "");

  // The worker's progress claim [done, ms since the job began when the last one finished], checked against this host's
  // own record: it only ever moves forward, never past the job's outcomes nor past the present. A claim that fails is
  // a worker under the control of its code: the process ends (undefined then).
  function progressOf(j: Job): number | undefined {
    if (claim(j)) return j.done;
    die("fatal", `the sandbox process was ended: its worker's progress counter was forged (${Atomics.load(progress, 0)} of ${j.outcomes} done)`);
    return undefined;
  }

  // Takes the worker's progress claim into the job's record when it passes; false when it does not.
  function claim(j: Job): boolean {
    const done = Atomics.load(progress, 0), at = Atomics.load(progress, 1);
    if (done === j.done && at === j.doneAt) return true;
    if (!(done >= j.done && done <= j.outcomes && at >= j.doneAt && at <= Date.now() - j.start + 1000)) return false;
    j.done = done;
    j.doneAt = at;
    return true;
  }

  // The host's own count of a job's outcomes: more than it can have is a forged outcome, and the process ends.
  function tooMany(j: Job, more: number): boolean {
    if (j.answered + more <= j.outcomes) return false;
    die("fatal", `the sandbox process was ended: its worker handed over more outcomes than the ${j.outcomes} its job has`);
    return true;
  }

  // A list of texts from the worker, or undefined when it is anything else.
  function texts(value: unknown, n?: number): string[] | undefined {
    if (!Array.isArray(value) || (n !== undefined && value.length !== n)) return undefined;
    for (const t of value) if (typeof t !== "string") return undefined;
    return value as string[];
  }

  // The outcomes the worker wrote to the spill but did not hand over: [index of the first, texts].
  function spilled(): [number, string[]] {
    const used = Atomics.load(spillHeader, 0);
    const first = Atomics.load(spillHeader, 1);
    const j = job;
    // What the spill claims is checked like the progress: it starts no earlier than what the host holds, no later than
    // what is done, and fits the spill; a spill that fails is not read.
    const held = j ? j.answered : 0;
    if (!j || used <= 0 || used > spill.byteLength - 8 || !(first >= 0 && first <= j.outcomes)) return [held, []];
    return [first, new TextDecoder().decode(new Uint8Array(spill, 8, used).slice()).split("\n").filter((t) => t.length > 0)];
  }

  // Passes on the outcomes of a running group that are done but still inside the worker (it is busy with a later call),
  // read from the spill while the worker may be writing it: a read that saw the spill begin anew is not used. The
  // worker's later message repeats them and is told apart by where its outcomes begin. Their captured output stays
  // behind (the spill holds outcomes only).
  function passOnSpilled(j: Job) {
    if (j.op !== "call" || dying || !claim(j)) return;
    const first = Atomics.load(spillHeader, 1);
    const [from, texts] = spilled();
    if (Atomics.load(spillHeader, 1) !== first || from !== first || texts.length === 0) return;
    const done = Math.min(j.done, j.requests.length);
    for (let k = j.answered - from; k >= 0 && k < texts.length && j.answered < done; k++) answerCall(j, texts[k], "", undefined, 0);
  }

  // The worker's average time in Python per call of a group (ms) as the `busy` of the group's last reply (µs), by which
  // the library sends a function's calls to its processes. The worker's memory is within Python's reach: a time that is
  // not a plausible number is left out.
  function busyOf(ms: unknown): number | undefined {
    return typeof ms === "number" && ms >= 0 && ms < 86_400_000 ? Math.max(1, Math.round(ms * 1000)) : undefined;
  }

  // [host in, host residence, worker before Python, Python, worker after Python, host out, worker residence], in µs.
  function profile(r: Request, prof: number[] | undefined, arrived: number): number[] | undefined {
    if (!prof || r.t0 === undefined || r.tp === undefined) return undefined;
    const now = performance.now();
    const [pre, py, post] = prof;
    return [r.tp - r.t0, now - r.t0, pre, py, post, now - arrived, pre + py + post].map((ms) => Math.round(ms * 1000));
  }

  // Answers the next call of the running group with the worker's outcome text.
  // `prof`: the worker's [before Python, Python, after] in ms (timing mode).
  function answerCall(j: Job, text: string, stdout: string, prof: number[] | undefined, arrived: number, busy?: number) {
    const r = j.requests[j.answered++];
    if (r.stop) {
      send({ id: r.id, ok: false, error: { kind: r.stop, type: r.stop, message: r.stop === "timeout" ? "the call exceeded its timeout and was interrupted" : "the call was cancelled" }, stdout: capOut(stdout) });
    } else if (text[0] === "3") {
      // Skipped without a stop of its own: cannot happen, but an answer is owed.
      send({ id: r.id, ok: false, error: { kind: "requeue", type: "requeue", message: "the call was not run" } });
    } else {
      const payload = text.slice(1);
      const out = capOut(stdout);
      // The output travels in the same reply, so it counts against the same bound.
      const large = tooLarge(payload) || payload.length + out.length > config.maxResultBytes + 64;
      send({ id: r.id, ok: true, exiting: text[0] === "1" || undefined, reply: large ? tooLargeItem() : payload, stdout: large ? "" : out, busy, prof: profile(r, prof, arrived) });
    }
  }

  // Ends this process after answering every request it holds: the running one with `kind`, calls of the group that
  // finished but whose results are lost as "lost", and the rest as "requeue" so the library can send them to a fresh process.
  async function die(kind: string, message: string) {
    if (dying) return;
    dying = true;
    const j = job;
    // "exiting" tells the library to send nothing more here; what it sent meanwhile is never started.
    if (j?.op === "call") {
      claim(j);
      const [first, spilledTexts] = spilled();
      for (let k = j.answered - first; k >= 0 && k < spilledTexts.length && j.answered < j.requests.length; k++) answerCall(j, spilledTexts[k], "", undefined, 0);
      const done = Math.min(j.done, j.requests.length);
      while (j.answered < done) {
        const r = j.requests[j.answered++];
        // A call stopped at its deadline that the worker claimed was over keeps its own verdict.
        const verdict = r.stop ?? "lost";
        send({ id: r.id, ok: false, exiting: true, error: { kind: verdict, type: verdict, message: r.stop ? "the call exceeded its timeout and was ended" : lostMessage } });
      }
      if (j.answered < j.requests.length) {
        const r = j.requests[j.answered++];
        const verdict = r.stop && kind !== "memory" && kind !== "fatal" ? r.stop : kind;
        send({ id: r.id, ok: false, exiting: true, error: { kind: verdict, type: verdict, message }, stdout: "" });
      }
      queue.unshift(...j.requests.slice(j.answered));
    } else if (j) send({ id: j.requests[0].id, ok: false, exiting: true, error: { kind, type: kind, message }, stdout: "" });
    for (const r of queue) send({ id: r.id, ok: false, exiting: true, error: { kind: "requeue", type: "requeue", message } });
    if (!j && queue.length === 0) send({ id: 0, ok: false, exiting: true, error: { kind, type: kind, message } });
    await channel.flush();
    // Exiting with unread input on the socket would reset the connection and could drop the replies above:
    // half-close, let the library read them and hang up, and exit then (or after a bound).
    await channel.closeWrite();
    setTimeout(() => ended(kind === "fatal" ? 2 : 3), 2000);
    await drained;
    ended(kind === "fatal" ? 2 : 3);
  }

  // JavaScript allocations bypass the WebAssembly cap; the resident size is the backstop. Reading it costs about a
  // millisecond, so it is read on a slow timer, and only while the worker has work.
  let memoryTimer: ReturnType<typeof setInterval> | undefined;
  function watchMemory() {
    if (memoryTimer !== undefined) return;
    memoryTimer = setInterval(() => {
      if (!job) {
        clearInterval(memoryTimer);
        memoryTimer = undefined;
        return;
      }
      if (Deno.memoryUsage().rss > config.memoryBytes * 2 + 256 * 1024 * 1024) {
        die("memory", "the sandbox process exceeded its memory budget and was ended");
      }
    }, 200);
  }

  // Deadlines of calls: one timer, re-armed only when a deadline earlier than the armed one appears.
  // When it fires it looks at what runs now (the worker's progress says which call and since when).
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineAt = Infinity;
  function armDeadline(at: number) {
    if (deadlineTimer !== undefined && deadlineAt <= at) return;
    clearTimeout(deadlineTimer);
    deadlineAt = at;
    deadlineTimer = setTimeout(onDeadline, Math.max(0, at - Date.now()));
  }

  function onDeadline() {
    deadlineTimer = undefined;
    deadlineAt = Infinity;
    const j = job;
    if (!j || j.op !== "call" || dying) return;
    // The call running now: the worker's progress says which, and since when.
    const k = progressOf(j);
    if (k === undefined) return;
    const now = Date.now();
    if (k >= j.requests.length) {
      // Every call claims to be done, yet no reply came: the last one still gets no more than its own bound.
      const last = j.requests.length - 1;
      if (!j.requests[last].stop && Number.isFinite(j.latest[last])) {
        if (now >= j.latest[last]) stop(j, last, "timeout");
        else armDeadline(j.latest[last]);
      }
      return;
    }
    const timeout = j.requests[k].timeoutMs ?? 0;
    // A call already stopped is the grace period's business now.
    if (timeout > 0 && !j.requests[k].stop) {
      // The current call began when the one before it finished, and no later than the host's own bound.
      const at = Math.min(j.start + (k === 0 ? 0 : j.doneAt) + timeout, j.latest[k]);
      if (now >= at) stop(j, k, "timeout");
      else armDeadline(at);
    }
    // A call the worker claims is over, yet past its own bound with no outcome: the claim does not end its deadline.
    for (let i = j.answered; i < k; i++) {
      if (j.requests[i].stop || !Number.isFinite(j.latest[i])) continue;
      if (now >= j.latest[i]) stop(j, i, "timeout");
      else armDeadline(j.latest[i]);
    }
    // Calls after the current one begin no earlier than now.
    const later = j.requests.slice(k + 1).map((r) => r.timeoutMs ?? 0).filter((t) => t > 0);
    if (later.length > 0) armDeadline(now + Math.min(...later));
  }

  // The interrupt is meant for this request only, and Python acts on it only while the request's own code runs; a
  // call of a group that has not begun is skipped instead. The grace period counts from when Python could act: the
  // later of the stop and Python entering the call (on a loaded machine the worker may take a while to get there),
  // with a bound for a worker that never does.
  function stop(j: Job, k: number, reason: "timeout" | "cancelled") {
    const r = j.requests[k];
    if (r.stop) return;
    // The calls before a cancelled one keep the outcomes they have: passed on now, not after the stop has played out.
    if (reason === "cancelled") passOnSpilled(j);
    r.stop = reason;
    const isCall = j.op === "call";
    if (isCall) {
      Atomics.store(cancelView, k, 1);
      // Not begun (and seen as such after the flag was set): the worker skips it, no interrupt needed.
      const done = progressOf(j);
      if (done === undefined || done < k) return;
    }
    Atomics.store(controlView, 0, r.seq!);
    Atomics.store(interruptView, 0, 2);
    const stoppedAt = performance.now();
    let actingSince = Atomics.load(controlView, 1) === r.seq ? stoppedAt : undefined;
    const grace = setInterval(() => {
      // Over when the host has the call's outcome (its own count), not when the worker says so.
      if (job !== j || dying || (isCall && j.answered > k)) {
        clearInterval(grace);
        return;
      }
      const now = performance.now();
      if (actingSince === undefined && Atomics.load(controlView, 1) === r.seq) actingSince = now;
      const overdue = actingSince !== undefined
        ? now - actingSince >= config.graceMs
        : now - stoppedAt >= Math.max(5000, config.graceMs * 10);
      if (!overdue) return;
      clearInterval(grace);
      die(reason, reason === "timeout"
        ? "the call did not stop after the interrupt; the sandbox process was ended"
        : "the call was cancelled and did not stop after the interrupt; the sandbox process was ended");
    }, Math.max(1, Math.min(25, config.graceMs)));
  }

  // A load, doctest or install: the deadline counts the function's own time, from when Python enters the call, not
  // the runtime's work before it (a first doctest imports its modules, which on a loaded machine can take seconds).
  function armEntryDeadline(j: Job) {
    const r = j.requests[0];
    const arm = () => {
      if (job !== j) return;
      if (Atomics.load(controlView, 1) === r.seq) setTimeout(() => job === j && stop(j, 0, "timeout"), r.timeoutMs!);
      else setTimeout(arm, 5);
    };
    arm();
  }

  function next() {
    if (job || dying || queue.length === 0) return;
    const op = queue[0].op;
    let n = 1;
    if (op === "call") while (n < queue.length && n < MAX_GROUP && queue[n].op === "call") n++;
    const requests = queue.splice(0, n);
    const start = Date.now();
    let latest = start;
    const j: Job = job = {
      id: ++jobs, op, requests, start, answered: 0, outcomes: requests.length, done: 0, doneAt: 0,
      latest: op === "call" ? requests.map((r) => (latest += (r.timeoutMs ?? 0) > 0 ? r.timeoutMs! + config.graceMs : Infinity)) : [],
    };
    for (const r of requests) r.seq = seq = seq % 2147483647 + 1;
    cancelView.fill(0, 0, n);
    Atomics.store(controlView, 0, 0);
    Atomics.store(interruptView, 0, 0);
    Atomics.store(progress, 0, 0);
    Atomics.store(progress, 1, 0);
    watchMemory();
    if (op === "call") {
      const timeouts = requests.map((r) => r.timeoutMs ?? 0).filter((t) => t > 0);
      if (timeouts.length > 0) armDeadline(j.start + Math.min(...timeouts));
    } else if (op !== "load" && (requests[0].timeoutMs ?? 0) > 0) {
      armEntryDeadline(j);
    }
    if (config.profile) for (const r of requests) r.tp = performance.now();
    if (op === "call") {
      if (!shareCalls(j)) toWorker({ type: "calls", id: j.id, start: j.start, calls: requests.map((r) => ({ seq: r.seq, args: r.args })) });
    } else {
      const r = requests[0];
      toWorker({ type: op, id: j.id, seq: r.seq, code: r.code, function: r.function, args: r.args, start: j.start });
    }
  }

  // A message for the worker, which waits on the mailbox: it is told to go and read it.
  function toWorker(message: unknown) {
    worker.postMessage(message);
    Atomics.store(box, BOX.inKind, BOX.messages);
    Atomics.add(box, BOX.inSeq, 1);
    Atomics.notify(box, BOX.inSeq);
  }

  // A group of calls into the mailbox: per call its number and the length of its arguments, then the arguments' text.
  function shareCalls(j: Job): boolean {
    let at = 0;
    const rs = j.requests;
    for (let k = 0; k < rs.length; k++) {
      const args = rs[k].args ?? "";
      if (args.length * 3 > boxIn.length - at) return false;
      boxInLens[2 * k] = rs[k].seq!;
      boxInLens[2 * k + 1] = args.length;
      at += encoder.encodeInto(args, boxIn.subarray(at)).written;
    }
    boxStart[0] = j.start;
    box[BOX.inJob] = j.id;
    box[BOX.inCount] = rs.length;
    box[BOX.inBytes] = at;
    Atomics.store(box, BOX.inKind, BOX.calls);
    Atomics.add(box, BOX.inSeq, 1);
    Atomics.notify(box, BOX.inSeq);
    return true;
  }

  // The outcomes of a group of calls from the mailbox, as the reply message they stand for; a string names what is
  // wrong with them (only code that reached the worker's memory writes a broken reply).
  function sharedReply(): Record<string, unknown> | string {
    const j = job;
    const id = box[BOX.outJob], count = box[BOX.outCount], bytes = box[BOX.outBytes], spent = box[BOX.outSpent], from = box[BOX.outFrom];
    if (!j || j.op !== "call" || id !== j.id) return "a reply for no group of calls the worker was given";
    if (!(from >= 0 && from <= j.answered)) return `a reply whose outcomes begin at ${from}`;
    if (!(count >= 0 && from + count <= j.requests.length)) return `a reply with ${count} outcomes`;
    if (!(bytes >= 0 && bytes <= BOX.outSize)) return `a reply of ${bytes} bytes`;
    const text = new TextDecoder().decode(new Uint8Array(mailbox, boxOutAt, bytes).slice());
    const lens = boxOutLens.slice(0, count * 2);
    const texts: string[] = [], outs: string[] = [];
    let at = 0;
    for (let i = 0; i < count; i++) {
      const a = lens[2 * i], b = lens[2 * i + 1];
      if (!(a >= 1 && b >= 0 && at + a + b <= text.length)) return "a reply whose lengths do not match its text";
      texts.push(text.slice(at, at + a));
      outs.push(text.slice(at + a, at + a + b));
      at += a + b;
    }
    if (at !== text.length) return "a reply whose lengths do not match its text";
    const profs = config.profile ? Array.from({ length: count }, (_, i) => Array.from(boxProfs.slice(3 * i, 3 * i + 3))) : undefined;
    return { type: "reply", id, spent: spent === 1, from, texts, outs, profs, took: boxTook[0] };
  }

  let outSeen = 0;
  async function listen() {
    while (true) {
      const w = Atomics.waitAsync(box, BOX.outSeq, outSeen);
      if (w.async) await w.value;
      const seen = Atomics.load(box, BOX.outSeq);
      if (seen === outSeen) continue;
      outSeen = seen;
      if (dying) continue;
      const m = sharedReply();
      if (typeof m !== "string") {
        fromWorker(m);
        continue;
      }
      // The calls whose outcomes that reply held get the verdict (not "lost"), and the process ends.
      const message = "the sandbox process was ended: its worker wrote a broken reply into shared memory (" + m + ")";
      const j = job;
      const done = j?.op === "call" ? Math.min(j.done, j.requests.length) : 0;
      while (j && j.answered < done) send({ id: j.requests[j.answered++].id, ok: false, exiting: true, error: { kind: "fatal", type: "fatal", message } });
      die("fatal", message);
    }
  }

  function finish(j: Job) {
    job = undefined;
    Atomics.store(controlView, 0, 0);
    Atomics.store(interruptView, 0, 0);
    // Calls of the group the worker did not run (after one that spent the process) go back to the head of the line.
    if (j.op === "call" && j.answered < j.requests.length) queue.unshift(...j.requests.slice(j.answered));
  }

  worker.onmessage = (e: MessageEvent) => fromWorker(e.data);
  // deno-lint-ignore no-explicit-any
  function fromWorker(m: any) {
    if (m.type === "ready") {
      send({ ready: true, pid: Deno.pid });
      return;
    }
    if (m.type === "fatal") {
      die("fatal", "the sandbox process failed and was ended: " + String(m.message).slice(0, 2000));
      return;
    }
    const j = job;
    if (!j || m.id !== j.id || dying) return;
    if (j.op === "call" && (m.type === "items" || m.type === "reply")) {
      const got = texts(m.texts);
      const outs = texts(m.outs, got?.length);
      if (!got || !outs) {
        die("fatal", "the sandbox process was ended: its worker sent outcomes that are not texts");
        return;
      }
      // Outcomes the host already passed on from the spill (when a call of the group was cancelled) are not passed on again.
      const from = m.from;
      if (!(Number.isInteger(from) && from >= 0 && from <= j.answered)) {
        die("fatal", "the sandbox process was ended: its worker sent outcomes that do not follow the ones it sent before");
        return;
      }
      const skip = Math.min(j.answered - from, got.length);
      if (tooMany(j, got.length - skip)) return;
      const arrived = config.profile ? performance.now() : 0;
      const busy = m.type === "reply" ? busyOf(m.took) : undefined;
      for (let i = skip; i < got.length; i++) answerCall(j, got[i], outs[i], Array.isArray(m.profs) ? m.profs[i] : undefined, arrived, i === got.length - 1 ? busy : undefined);
    }
    if (m.type === "items") return;
    if (m.type !== "reply") return;
    const r = j.requests[0];
    // WebAssembly memory never shrinks: after a MemoryError this process is only a liability.
    let spent: boolean;
    if (j.op === "call") {
      spent = m.spent === true;
      // A group ends early only when a call spent the process; otherwise every call has its outcome.
      if (!spent && j.answered !== j.requests.length) {
        die("fatal", `the sandbox process was ended: its worker answered ${j.answered} of ${j.requests.length} calls`);
        return;
      }
    } else {
      if (typeof m.text !== "string" || m.text.length === 0) {
        die("fatal", "the sandbox process was ended: its worker sent an outcome that is not a text");
        return;
      }
      spent = m.text[0] === "1";
      if (r.stop) {
        send({ id: r.id, ok: false, error: { kind: r.stop, type: r.stop, message: r.stop === "timeout" ? "the call exceeded its timeout and was interrupted" : "the call was cancelled" }, stdout: capOut(m.stdout) });
      } else {
        const text: string = m.text.slice(1);
        send({ id: r.id, ok: true, exiting: spent || undefined, reply: tooLarge(text) ? tooLargeItem() : text, stdout: capOut(m.stdout) });
      }
    }
    finish(j);
    if (spent) {
      die("memory", "an earlier call ran out of memory; the sandbox process was recycled");
      return;
    }
    next();
  }
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    die("fatal", "the Python worker crashed: " + e.message);
  };

  // Moved, not copied: a 30 MB copy would cost time at start and memory for as long as the process lives.
  worker.postMessage(
    { type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, progress, spill, cancel, mailbox, mailboxLayout: BOX, maxResultBytes: config.maxResultBytes, snapshot: snapshotBytes, makeSnapshot: false, profile: config.profile === true },
    snapshotBytes ? [snapshotBytes.buffer] : [],
  );
  snapshotBytes = undefined;
  listen();

  for await (const requests of channel.requests()) {
    if (dying) continue;
    for (const req of requests) {
      if (config.profile) req.t0 = performance.now();
      if (req.op !== "cancel") {
        queue.push(req);
        continue;
      }
      const k = job ? job.requests.findIndex((q) => q.id === req.target) : -1;
      if (job && k >= job.answered) stop(job, k, "cancelled");
      else {
        const i = queue.findIndex((q) => q.id === req.target);
        if (i >= 0) {
          const [dropped] = queue.splice(i, 1);
          send({ id: dropped.id, ok: false, error: { kind: "cancelled", type: "cancelled", message: "the call was cancelled" } });
        }
      }
    }
    next();
  }
  readerDone();
  // The library closed the channel: nothing more to do.
  if (!dying) ended(0);
}
