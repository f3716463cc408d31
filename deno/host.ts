// AnyDef sandbox host. The main thread owns the protocol: it connects to the private Unix socket the
// library created, reads newline-delimited JSON requests and answers each exactly once. Python runs in a
// Worker with narrowed permissions, one function (one trust domain) per process. Timeouts are graceful,
// then forceful: interrupt Python at the deadline, and end this process if the call has not stopped after
// the grace period (a busy Worker cannot be terminated reliably, a process can).

type Config = {
  socket: string;
  indexDir: string;
  moduleUrl: string;
  // "inherit" only in the library's tests of the operating-system wall, which run a host with broad permissions.
  workerPermissions: string[] | "inherit";
  snapshot?: string;
  makeSnapshot?: string;
  memoryBytes: number;
  graceMs: number;
  maxResultBytes: number;
};

type Request = {
  id: number;
  seq?: number;
  op: "load" | "call" | "batch" | "doctest" | "cancel";
  code?: string;
  function?: string;
  args?: string;
  timeoutMs?: number;
  target?: number;
};

const config: Config = JSON.parse(Deno.args[0]);
const encoder = new TextEncoder();
const interrupt = new SharedArrayBuffer(1);
const interruptView = new Uint8Array(interrupt);
// control[0]: the request an interrupt is meant for; control[1]: the request whose own code Python has entered.
const control = new SharedArrayBuffer(8);
const controlView = new Int32Array(control);
let seq = 0;
// Batch progress, written by the worker after each input: [inputs done, ms since the batch began when the last
// one finished]. The per-input deadline reads it, so it needs no message from a worker that may be stuck.
const progress = new Int32Array(new SharedArrayBuffer(8));
// The outcomes the worker has not handed over yet, newline-separated, after a header [bytes used, index of the first].
const spill = new SharedArrayBuffer(8 + 1024 * 1024);
const spillHeader = new Int32Array(spill, 0, 2);

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

let snapshotBytes: Uint8Array | undefined;
if (config.snapshot) snapshotBytes = await Deno.readFile(config.snapshot);

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
  worker.postMessage({ type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, progress, spill, maxResultBytes: config.maxResultBytes, makeSnapshot: true });
} else {
  await serve();
}

async function serve() {
  const conn = await Deno.connect({ transport: "unix", path: config.socket });
  let writing = Promise.resolve();
  const send = (obj: unknown) => {
    const bytes = encoder.encode(JSON.stringify(obj) + "\n");
    writing = writing.then(async () => {
      let off = 0;
      while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    });
    return writing;
  };

  let readerDone: () => void = () => {};
  const drained = new Promise<void>((resolve) => (readerDone = resolve));
  const queue: Request[] = [];
  let running: Request | undefined;
  let deadlineTimer: number | undefined;
  let graceTimer: number | undefined;
  let memoryTimer: number | undefined;
  let stopReason: "timeout" | "cancelled" | undefined;
  let dying = false;
  // The running batch: the outcomes the worker has handed over so far (JSON texts, in input order) and its start.
  let items: string[] = [];
  let batchStart = 0;

  const hostItem = (kind: string, message: string) => JSON.stringify({ ok: false, host: kind, message });

  // A worker item is one flag character (0 plain, 1 MemoryError, 2 interrupted) and the outcome's JSON text.
  // The flag travels beside the payload, so a result is only ever data.
  function tooLarge(text: string): boolean {
    // The worker checks the exact size; this is the backstop it cannot patch away (UTF-16 length <= UTF-8 bytes).
    return text.length > config.maxResultBytes + 64;
  }
  const tooLargeItem = () => hostItem("too_large", `the result is larger than the limit of ${config.maxResultBytes} bytes`);

  // The outcomes of a batch that ended with `kind`: what the worker handed over, inputs that finished but whose
  // results were still inside the worker are reported lost, and the input that was running gets the error.
  function batchPayload(kind: string | undefined, message: string): string {
    const out = items.map((t) => (tooLarge(t) ? tooLargeItem() : t.slice(1)));
    if (kind) {
      const used = Atomics.load(spillHeader, 0);
      const first = Atomics.load(spillHeader, 1);
      if (used > 0) {
        const texts = new TextDecoder().decode(new Uint8Array(spill, 8, used).slice()).split("\n").filter((t) => t.length > 0);
        for (let i = out.length; i < first; i++) out.push(hostItem("lost", "this input finished, but its result was lost when the sandbox process was ended by a later input"));
        for (let k = Math.max(0, out.length - first); k < texts.length; k++) out.push(tooLarge(texts[k]) ? tooLargeItem() : texts[k].slice(1));
      }
      const done = Atomics.load(progress, 0);
      for (let i = out.length; i < done; i++) {
        out.push(hostItem("lost", "this input finished, but its result was lost when the sandbox process was ended by a later input"));
      }
      out.push(hostItem(kind, message));
    }
    return "[" + out.join(",") + "]";
  }

  // Ends this process after answering every request it holds: the running one with `kind`, the queued ones
  // as "requeue" so the library can send them to a fresh process.
  async function die(kind: string, message: string) {
    if (dying) return;
    dying = true;
    // "exiting" tells the library to send nothing more here; what it sent meanwhile is never started.
    if (running?.op === "batch") await send({ id: running.id, ok: true, exiting: true, reply: batchPayload(kind, message), stdout: "" });
    else if (running) await send({ id: running.id, ok: false, exiting: true, error: { kind, type: kind, message }, stdout: "" });
    for (const r of queue) await send({ id: r.id, ok: false, exiting: true, error: { kind: "requeue", type: "requeue", message } });
    if (!running && queue.length === 0) await send({ id: 0, ok: false, exiting: true, error: { kind, type: kind, message } });
    await writing.catch(() => {});
    // Exiting with unread input on the socket would reset the connection and could drop the replies above:
    // half-close, let the library read them and hang up, and exit then (or after a bound).
    try {
      await conn.closeWrite();
    } catch {
      // already closed
    }
    setTimeout(() => ended(kind === "fatal" ? 2 : 3), 2000);
    await drained;
    ended(kind === "fatal" ? 2 : 3);
  }

  function clearTimers() {
    clearTimeout(deadlineTimer);
    clearInterval(graceTimer);
    clearInterval(memoryTimer);
    deadlineTimer = graceTimer = memoryTimer = undefined;
  }

  // The interrupt is meant for this request only, and Python acts on it only while the request's own code runs.
  // The grace period counts from when it could act: the later of the stop and Python entering the call (on a
  // loaded machine the worker may take a while to get there), with a bound for a worker that never does.
  function stop(reason: "timeout" | "cancelled") {
    if (!running || stopReason) return;
    const r = running;
    stopReason = reason;
    Atomics.store(controlView, 0, r.seq!);
    Atomics.store(interruptView, 0, 2);
    const stoppedAt = performance.now();
    let actingSince = Atomics.load(controlView, 1) === r.seq ? stoppedAt : undefined;
    graceTimer = setInterval(() => {
      if (running !== r) return;
      const now = performance.now();
      if (actingSince === undefined && Atomics.load(controlView, 1) === r.seq) actingSince = now;
      const overdue = actingSince !== undefined
        ? now - actingSince >= config.graceMs
        : now - stoppedAt >= Math.max(5000, config.graceMs * 10);
      if (!overdue) return;
      die(reason, reason === "timeout"
        ? "the call did not stop after the interrupt; the sandbox process was ended"
        : "the call was cancelled and did not stop after the interrupt; the sandbox process was ended");
    }, Math.max(1, Math.min(25, config.graceMs)));
  }

  // The timeout covers each input of a batch on its own: when it fires, an input that finished meanwhile moves
  // the deadline to the current input's start plus the timeout.
  function armDeadline(timeoutMs: number) {
    let seen = -1;
    const check = () => {
      const done = Atomics.load(progress, 0);
      if (done !== seen) {
        seen = done;
        const wait = batchStart + (done === 0 ? 0 : Atomics.load(progress, 1)) + timeoutMs - Date.now();
        if (wait > 0) {
          deadlineTimer = setTimeout(check, wait);
          // Tells the library the process is making progress through a long batch.
          send({ id: 0, progress: done });
          return;
        }
      }
      stop("timeout");
    };
    deadlineTimer = setTimeout(check, timeoutMs);
  }

  function next() {
    if (running || dying) return;
    const r = queue.shift();
    if (!r) return;
    running = r;
    stopReason = undefined;
    r.seq = seq = seq % 2147483647 + 1;
    Atomics.store(controlView, 0, 0);
    items = [];
    batchStart = Date.now();
    Atomics.store(progress, 0, 0);
    Atomics.store(progress, 1, 0);
    Atomics.store(interruptView, 0, 0);
    if (r.op === "batch" && r.timeoutMs && r.timeoutMs > 0) {
      armDeadline(r.timeoutMs);
    } else if (r.op !== "load" && r.timeoutMs && r.timeoutMs > 0) {
      // The deadline counts the function's own time: from when Python enters the call, not the runtime's work
      // before it (a first doctest imports its modules, which on a loaded machine can take seconds).
      const arm = () => {
        if (running !== r) return;
        deadlineTimer = Atomics.load(controlView, 1) === r.seq ? setTimeout(() => stop("timeout"), r.timeoutMs!) : setTimeout(arm, 5);
      };
      arm();
    }
    // JavaScript allocations bypass the WebAssembly cap; the resident size is the backstop.
    memoryTimer = setInterval(() => {
      if (Deno.memoryUsage().rss > config.memoryBytes * 2 + 256 * 1024 * 1024) {
        die("memory", "the sandbox process exceeded its memory budget and was ended");
      }
    }, 100);
    worker.postMessage({ type: r.op, id: r.id, seq: r.seq, code: r.code, function: r.function, args: r.args, start: batchStart });
  }

  worker.onmessage = (e: MessageEvent) => {
    const m = e.data;
    if (m.type === "ready") {
      send({ ready: true, pid: Deno.pid });
      return;
    }
    if (m.type === "fatal") {
      die("fatal", "the sandbox process failed and was ended: " + String(m.message).slice(0, 2000));
      return;
    }
    if (!running || m.id !== running.id) return;
    if (m.type === "items") {
      for (const t of m.texts as string[]) items.push(t);
      return;
    }
    if (m.type !== "reply") return;
    const r = running;
    const reason = stopReason;
    clearTimers();
    Atomics.store(controlView, 0, 0);
    Atomics.store(interruptView, 0, 0);
    // WebAssembly memory never shrinks: after a MemoryError this process is only a liability.
    const spent = r.op === "batch" ? items.some((t) => t[0] === "1") : m.text[0] === "1";
    if (reason === "cancelled" || (reason === "timeout" && r.op !== "batch")) {
      running = undefined;
      stopReason = undefined;
      send({ id: r.id, ok: false, error: { kind: reason, type: reason, message: reason === "timeout" ? "the call exceeded its timeout and was interrupted" : "the call was cancelled" }, stdout: m.stdout });
    } else if (r.op === "batch") {
      // The input the deadline interrupted gets a timeout; the inputs after it were not run and go back to the library.
      if (reason === "timeout" && items.length > 0 && items[items.length - 1][0] === "2") {
        items[items.length - 1] = "0" + hostItem("timeout", "the input exceeded its timeout and was interrupted");
      }
      const payload = batchPayload(undefined, "");
      running = undefined;
      stopReason = undefined;
      send({ id: r.id, ok: true, exiting: spent || undefined, reply: payload, stdout: m.stdout });
    } else {
      running = undefined;
      stopReason = undefined;
      const text: string = m.text.slice(1);
      send({ id: r.id, ok: true, exiting: spent || undefined, reply: tooLarge(text) ? tooLargeItem() : text, stdout: m.stdout });
    }
    if (spent) {
      die("memory", "an earlier call ran out of memory; the sandbox process was recycled");
      return;
    }
    next();
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    die("fatal", "the Python worker crashed: " + e.message);
  };

  // Moved, not copied: a 30 MB copy would cost time at start and memory for as long as the process lives.
  worker.postMessage(
    { type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, progress, spill, maxResultBytes: config.maxResultBytes, snapshot: snapshotBytes, makeSnapshot: false },
    snapshotBytes ? [snapshotBytes.buffer] : [],
  );
  snapshotBytes = undefined;

  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of conn.readable) {
    if (dying) continue;
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      const req: Request = JSON.parse(line);
      if (req.op === "cancel") {
        if (running && running.id === req.target) stop("cancelled");
        else {
          const i = queue.findIndex((q) => q.id === req.target);
          if (i >= 0) {
            const [dropped] = queue.splice(i, 1);
            send({ id: dropped.id, ok: false, error: { kind: "cancelled", type: "cancelled", message: "the call was cancelled" } });
          }
        }
        continue;
      }
      queue.push(req);
      next();
    }
  }
  readerDone();
  // The library closed the channel: nothing more to do.
  if (!dying) ended(0);
}
