// The Pyodide side of an AnyDef sandbox host. It runs in a Web Worker whose Deno permissions are narrowed
// to reading the Pyodide files; it never sees the protocol socket. It talks only to host.ts.
/// <reference lib="deno.worker" />

type Init = {
  indexDir: string;
  moduleUrl: string;
  memoryBytes: number;
  interrupt: SharedArrayBuffer;
  progress: Int32Array;
  spill: SharedArrayBuffer;
  maxResultBytes: number;
  snapshot?: Uint8Array;
  makeSnapshot: boolean;
};

// Runs inside Python. Kept small: it compiles once, runs each call in a fresh namespace, and turns every
// outcome into JSON text so that no Python object crosses into JavaScript.
const RUNTIME = String.raw`
import builtins as _b, json as _json, sys as _sys, traceback as _tb, inspect as _inspect

def _anydef_default(o):
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=repr)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "__dict__"):
        return o.__dict__
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

_anydef_encoder = _json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_anydef_default)
_anydef_loads = _json.loads

def _anydef_error(e):
    t = e.__traceback__
    while t is not None and t.tb_frame.f_code.co_filename == "<exec>":
        t = t.tb_next
    tb = "".join(_tb.format_exception(type(e), e, t))
    return _anydef_encoder.encode({"ok": False, "type": type(e).__name__, "message": str(e), "traceback": tb[-8000:]})

# Every outcome text starts with one flag character that travels beside the payload, never inside it:
# 0 plain, 1 MemoryError (the process is spent), 2 interrupted.
def _anydef_flag(e):
    return "1" if isinstance(e, MemoryError) else "2" if isinstance(e, KeyboardInterrupt) else "0"

_anydef_limit = [32 * 1024 * 1024]

def _anydef_compile(code, name):
    try:
        co = compile(code, "<" + name + ">", "exec")
        ns = {"__name__": "__anydef__", "__builtins__": _b}
        exec(co, ns)
        fn = ns.get(name)
        if not callable(fn):
            raise NameError(f"the code does not define a function named '{name}'")
        params = []
        for p in _inspect.signature(fn).parameters.values():
            params.append({"name": p.name, "kind": p.kind.name, "has_default": p.default is not p.empty})
        return co, "0" + _anydef_encoder.encode({"ok": True, "params": params})
    except BaseException as e:
        return None, _anydef_flag(e) + _anydef_error(e)

def _anydef_invoke(co, name, args):
    ns = {"__name__": "__anydef__", "__builtins__": _b}
    exec(co, ns)
    r = ns[name](*args[0], **args[1])
    if _inspect.iscoroutine(r):
        from pyodide.ffi import run_sync
        r = run_sync(r)
    return r

def _anydef_encode(r):
    try:
        s = _anydef_encoder.encode(r)
    except (TypeError, ValueError, RecursionError) as e:
        return _anydef_encoder.encode({"ok": False, "type": type(e).__name__, "message": str(e), "traceback": "",
                                       "unencodable": repr(r)[:500]})
    # The size limit in bytes: a str's length never exceeds its UTF-8 size, so most results need no encoding.
    limit = _anydef_limit[0]
    n = len(s)
    if n > limit or (n * 4 > limit and len(s.encode("utf-8", "surrogatepass")) > limit):
        return '{"ok":false,"host":"too_large","message":"the result is larger than the limit of %d bytes"}' % limit
    return '{"ok":true,"result":' + s + "}"

def _anydef_call(co, name, args_json):
    try:
        return "0" + _anydef_encode(_anydef_invoke(co, name, _anydef_loads(args_json)))
    except BaseException as e:
        return _anydef_flag(e) + _anydef_error(e)

def _anydef_doctest(co, name, doc):
    import doctest, io
    try:
        ns = {"__name__": "__anydef__", "__builtins__": _b}
        exec(co, ns)
        test = doctest.DocTestParser().get_doctest(doc, ns, name, "<description>", 0)
        out = io.StringIO()
        runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
        runner.run(test, out=out.write, clear_globs=True)
        return "0" + _anydef_encoder.encode({"ok": True, "result": {"attempted": runner.tries, "failed": runner.failures, "report": out.getvalue()[-4000:]}})
    except BaseException as e:
        return _anydef_flag(e) + _anydef_error(e)

# Runs the inputs one after another and hands each outcome to emit at once; stops after an interrupt or a
# MemoryError (the inputs not run go back to the library), and when emit says the chunk's output is full.
def _anydef_batch(co, name, batch_json, emit):
    try:
        for args in _anydef_loads(batch_json):
            try:
                text = "0" + _anydef_encode(_anydef_invoke(co, name, args))
            except BaseException as e:
                flag = _anydef_flag(e)
                emit(flag + _anydef_error(e))
                if flag != "0":
                    return
                continue
            if not emit(text):
                return
    except BaseException:
        return
`;

let pyodide: any;
let progress: Int32Array;
let maxResultBytes = 0;
// The running batch's outcomes not yet handed to the host: sent every millisecond or 64 outcomes, so a batch
// costs few messages and a process that dies loses at most the last moment's results.
let pending: string[] = [];
// A copy of the pending outcomes in memory the host can read, for when this worker gets stuck in an input (a C loop
// past its timeout): the host then still has every outcome before it. Header: [bytes used, index of the first].
let spillHeader: Int32Array;
let spillBytes: Uint8Array;
const encoder = new TextEncoder();
let pendingId = 0;
let lastFlush = 0;
let done = 0;
let batchBytes = 0;
let batchStart = 0;
const post = self.postMessage.bind(self);

function flush() {
  if (pending.length > 0) post({ type: "items", id: pendingId, texts: pending });
  pending = [];
  Atomics.store(spillHeader, 0, 0);
  Atomics.store(spillHeader, 1, done);
  lastFlush = performance.now();
}

// Copies an outcome into the spill, newline-separated (outcome texts are single-line JSON); false when it has no room.
function spill(text: string): boolean {
  const used = Atomics.load(spillHeader, 0);
  if (text.length * 3 + 1 > spillBytes.length - used) return false;
  const { written } = encoder.encodeInto(text, spillBytes.subarray(used));
  spillBytes[used + written] = 10;
  Atomics.store(spillHeader, 0, used + written + 1);
  return true;
}

function emit(text: string): boolean {
  pending.push(text);
  done++;
  Atomics.store(progress, 1, Date.now() - batchStart);
  Atomics.store(progress, 0, done);
  batchBytes += text.length;
  if (pending.length >= 64 || performance.now() - lastFlush >= 1 || !spill(text)) flush();
  return batchBytes < maxResultBytes;
}

// Python reaches JavaScript, so what would end this worker or start work outside a call is taken away before
// any untrusted code runs: ending the worker or the process is reported as a crash at once, and nested workers
// (which would run on after the call returned) are refused.
function lockDown() {
  const ended = (what: string) => () => {
    flush();
    post({ type: "fatal", message: `the code tried to end its ${what}` });
    throw new Error(`the AnyDef sandbox does not let code end its ${what}`);
  };
  const fix = (target: object, name: string, value: unknown) =>
    Object.defineProperty(target, name, { value, writable: false, configurable: false, enumerable: false });
  fix(Deno, "exit", ended("process"));
  fix(globalThis, "close", ended("worker"));
  fix(globalThis, "Worker", function Worker() {
    throw new Error("the AnyDef sandbox does not allow nested workers");
  });
}
let compiled: any;
let functionName = "";
let stdout: string[] = [];
let stdoutSize = 0;
const STDOUT_CAP = 64 * 1024;

function capture(text: string) {
  if (stdoutSize >= STDOUT_CAP) return;
  const room = STDOUT_CAP - stdoutSize;
  const piece = text.length + 1 > room ? text.slice(0, room) : text + "\n";
  stdout.push(piece);
  stdoutSize += piece.length;
}

function takeStdout(): string {
  const s = stdout.join("");
  stdout = [];
  stdoutSize = 0;
  return s;
}

// WebAssembly memory never shrinks, so the heap is capped before Pyodide allocates it: a runaway
// allocation becomes a MemoryError inside Python instead of a host that eats the machine.
function capWasmMemory(limitBytes: number) {
  const grow = WebAssembly.Memory.prototype.grow;
  WebAssembly.Memory.prototype.grow = function (this: WebAssembly.Memory, pages: number) {
    if (this.buffer.byteLength + pages * 65536 > limitBytes) throw new RangeError("AnyDef memory cap reached");
    return grow.call(this, pages);
  };
}

async function init(msg: Init) {
  capWasmMemory(msg.memoryBytes);
  lockDown();
  progress = msg.progress;
  spillHeader = new Int32Array(msg.spill, 0, 2);
  spillBytes = new Uint8Array(msg.spill, 8);
  maxResultBytes = msg.maxResultBytes;
  const options: Record<string, unknown> = {
    indexURL: msg.indexDir,
    stdout: capture,
    stderr: capture,
    fullStdLib: false,
  };
  if (msg.makeSnapshot) options._makeSnapshot = true;
  if (msg.snapshot) options._loadSnapshot = msg.snapshot;
  const { loadPyodide } = await import(msg.moduleUrl);
  pyodide = await loadPyodide(options);
  if (!msg.snapshot) pyodide.runPython(RUNTIME);
  pyodide.setInterruptBuffer(new Uint8Array(msg.interrupt));
  if (!msg.makeSnapshot) pyodide.runPython(`_anydef_limit[0] = ${Math.floor(msg.maxResultBytes)}`);
  if (msg.makeSnapshot) {
    const bytes: Uint8Array = pyodide.makeMemorySnapshot();
    self.postMessage({ type: "snapshot", bytes }, [bytes.buffer]);
    return;
  }
  takeStdout();
  self.postMessage({ type: "ready" });
}

function reply(id: number, text: string) {
  post({ type: "reply", id, text, stdout: takeStdout() });
}

self.onmessage = async (e: MessageEvent) => {
  const msg = e.data;
  try {
    switch (msg.type) {
      case "init":
        await init(msg);
        break;
      case "load": {
        const g = pyodide.globals;
        const res = g.get("_anydef_compile")(msg.code, msg.function);
        const [co, text] = res.toJs({ depth: 1 });
        res.destroy();
        if (co) {
          compiled?.destroy?.();
          compiled = co;
          functionName = msg.function;
        }
        reply(msg.id, text);
        break;
      }
      case "call":
        reply(msg.id, await pyodide.globals.get("_anydef_call").callPromising(compiled, functionName, msg.args));
        break;
      case "doctest":
        reply(msg.id, await pyodide.globals.get("_anydef_doctest").callPromising(compiled, functionName, msg.args));
        break;
      case "batch":
        pending = [];
        pendingId = msg.id;
        done = 0;
        batchBytes = 0;
        batchStart = msg.start;
        lastFlush = performance.now();
        Atomics.store(spillHeader, 0, 0);
        Atomics.store(spillHeader, 1, 0);
        await pyodide.globals.get("_anydef_batch").callPromising(compiled, functionName, msg.args, emit);
        flush();
        reply(msg.id, "");
        break;
    }
  } catch (err) {
    // A JavaScript-level failure here means the interpreter is no longer trustworthy (Pyodide fatal error).
    flush();
    post({ type: "fatal", id: msg.id, message: String(err && (err as Error).stack || err) });
  }
};
