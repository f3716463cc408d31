// AnyDef sandbox host. The main thread owns the protocol: it connects to the private Unix socket the
// library created, reads newline-delimited JSON requests and answers each exactly once. Python runs in a
// Worker with narrowed permissions, one function (one trust domain) per process. Timeouts are graceful,
// then forceful: interrupt Python at the deadline, and end this process if the call has not stopped after
// the grace period (a busy Worker cannot be terminated reliably, a process can).

type Config = {
  socket: string;
  indexDir: string;
  moduleUrl: string;
  workerPermissions: string[];
  snapshot?: string;
  makeSnapshot?: string;
  memoryBytes: number;
  graceMs: number;
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

const worker = new Worker(new URL("./worker.ts", import.meta.url).href, {
  type: "module",
  // deno-lint-ignore no-explicit-any
  deno: {
    permissions: {
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
  worker.postMessage({ type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, makeSnapshot: true });
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

  // Ends this process after answering every request it holds: the running one with `kind`, the queued ones
  // as "requeue" so the library can send them to a fresh process.
  async function die(kind: string, message: string) {
    if (dying) return;
    dying = true;
    // "exiting" tells the library to send nothing more here; what it sent meanwhile is never started.
    if (running) await send({ id: running.id, ok: false, exiting: true, error: { kind, type: kind, message }, stdout: "" });
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

  function next() {
    if (running || dying) return;
    const r = queue.shift();
    if (!r) return;
    running = r;
    stopReason = undefined;
    r.seq = seq = seq % 2147483647 + 1;
    Atomics.store(controlView, 0, 0);
    Atomics.store(interruptView, 0, 0);
    // The deadline counts the function's own time: from when Python enters the call, not the runtime's work
    // before it (a first doctest imports its modules, which on a loaded machine can take seconds).
    if (r.op !== "load" && r.timeoutMs && r.timeoutMs > 0) {
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
    worker.postMessage({ type: r.op, id: r.id, seq: r.seq, code: r.code, function: r.function, args: r.args });
  }

  worker.onmessage = (e: MessageEvent) => {
    const m = e.data;
    if (m.type === "ready") {
      send({ ready: true, pid: Deno.pid });
      return;
    }
    if (m.type === "fatal") {
      die("fatal", "the Python interpreter failed and the sandbox process was ended: " + String(m.message).slice(0, 2000));
      return;
    }
    if (m.type !== "reply" || !running || m.id !== running.id) return;
    const r = running;
    const reason = stopReason;
    clearTimers();
    running = undefined;
    stopReason = undefined;
    Atomics.store(controlView, 0, 0);
    Atomics.store(interruptView, 0, 0);
    if (reason) {
      send({ id: r.id, ok: false, error: { kind: reason, type: reason, message: reason === "timeout" ? "the call exceeded its timeout and was interrupted" : "the call was cancelled" }, stdout: m.stdout });
    } else {
      send({ id: r.id, ok: true, reply: m.text, stdout: m.stdout });
      // WebAssembly memory never shrinks: after a MemoryError this process is only a liability.
      if (m.text.includes('"__anydef_memory__": true')) {
        die("memory", "an earlier call ran out of memory; the sandbox process was recycled");
        return;
      }
    }
    next();
  };
  worker.onerror = (e: ErrorEvent) => {
    e.preventDefault();
    die("fatal", "the Python worker crashed: " + e.message);
  };

  // Moved, not copied: a 30 MB copy would cost time at start and memory for as long as the process lives.
  worker.postMessage(
    { type: "init", indexDir: config.indexDir, moduleUrl: config.moduleUrl, memoryBytes: config.memoryBytes, interrupt, control, snapshot: snapshotBytes, makeSnapshot: false },
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
