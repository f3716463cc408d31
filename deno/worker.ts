// The Pyodide side of an AnyDef sandbox host. It runs in a Web Worker whose Deno permissions are narrowed
// to reading the Pyodide files; it never sees the protocol socket. It talks only to host.ts.
/// <reference lib="deno.worker" />

type Init = {
  indexDir: string;
  moduleUrl: string;
  memoryBytes: number;
  interrupt: SharedArrayBuffer;
  control: SharedArrayBuffer;
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
    return _anydef_encoder.encode({"ok": False, "type": type(e).__name__, "message": str(e), "traceback": tb[-8000:],
                                   "__anydef_memory__": isinstance(e, MemoryError)})

# Interrupts reach only the call they were meant for, and only while its own code runs: the host names the call
# (control[0]) before it raises the interrupt, and a SIGINT that arrives anywhere else (between calls, in the
# runtime's own code) is ignored, so a late cancellation never breaks the interpreter.
_anydef_control = None
_anydef_running = 0

def _anydef_sigint(signum, frame):
    if _anydef_running and _anydef_running == _anydef_control[0]:
        raise KeyboardInterrupt

def _anydef_setup(control):
    global _anydef_control
    import signal
    _anydef_control = control
    signal.signal(signal.SIGINT, _anydef_sigint)

def _anydef_enter(seq):
    global _anydef_running
    _anydef_control[1] = seq
    _anydef_running = seq
    if _anydef_control[0] == seq:
        raise KeyboardInterrupt

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
        return co, _anydef_encoder.encode({"ok": True, "params": params})
    except BaseException as e:
        return None, _anydef_error(e)

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
        return '{"ok":true,"result":' + _anydef_encoder.encode(r) + "}"
    except (TypeError, ValueError, RecursionError) as e:
        return _anydef_encoder.encode({"ok": False, "type": type(e).__name__, "message": str(e), "traceback": "",
                                       "unencodable": repr(r)[:500]})

def _anydef_call(co, name, args_json, seq):
    global _anydef_running
    try:
        args = _anydef_loads(args_json)
        try:
            _anydef_enter(seq)
            try:
                return _anydef_encode(_anydef_invoke(co, name, args))
            except BaseException as e:
                return _anydef_error(e)
        finally:
            _anydef_running = 0
    except BaseException as e:
        _anydef_running = 0
        return _anydef_error(e)

def _anydef_doctest(co, name, doc, seq):
    global _anydef_running
    import doctest, io
    try:
        _anydef_enter(seq)
        ns = {"__name__": "__anydef__", "__builtins__": _b}
        exec(co, ns)
        test = doctest.DocTestParser().get_doctest(doc, ns, name, "<description>", 0)
        out = io.StringIO()
        runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
        runner.run(test, out=out.write, clear_globs=True)
        _anydef_running = 0
        return _anydef_encoder.encode({"ok": True, "result": {"attempted": runner.tries, "failed": runner.failures, "report": out.getvalue()[-4000:]}})
    except BaseException as e:
        _anydef_running = 0
        return _anydef_error(e)

def _anydef_batch(co, name, batch_json, seq):
    global _anydef_running
    out = []
    for args in _anydef_loads(batch_json):
        try:
            _anydef_enter(seq)
            r = _anydef_invoke(co, name, args)
            out.append(_anydef_encode(r))
        except BaseException as e:
            _anydef_running = 0
            out.append(_anydef_error(e))
            if isinstance(e, (KeyboardInterrupt, MemoryError)):
                break
    _anydef_running = 0
    return "[" + ",".join(out) + "]"
`;

let pyodide: any;
// The runtime's entry points, looked up once: a lookup per call would leave a proxy behind per call.
// deno-lint-ignore no-explicit-any
let entry: Record<"call" | "doctest" | "batch", any>;
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
  // Pyodide keeps its options: without this the 30 MB snapshot would stay in memory as long as the process.
  delete options._loadSnapshot;
  if (pyodide._api?.config) delete pyodide._api.config._loadSnapshot;
  if (!msg.makeSnapshot) {
    const setup = pyodide.globals.get("_anydef_setup");
    setup(new Int32Array(msg.control));
    setup.destroy();
    entry = { call: pyodide.globals.get("_anydef_call"), doctest: pyodide.globals.get("_anydef_doctest"), batch: pyodide.globals.get("_anydef_batch") };
  }
  if (msg.makeSnapshot) {
    const bytes: Uint8Array = pyodide.makeMemorySnapshot();
    self.postMessage({ type: "snapshot", bytes }, [bytes.buffer]);
    return;
  }
  takeStdout();
  self.postMessage({ type: "ready" });
}

function reply(id: number, text: string) {
  self.postMessage({ type: "reply", id, text, stdout: takeStdout() });
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
        reply(msg.id, await entry.call.callPromising(compiled, functionName, msg.args, msg.seq));
        break;
      case "doctest":
        reply(msg.id, await entry.doctest.callPromising(compiled, functionName, msg.args, msg.seq));
        break;
      case "batch":
        reply(msg.id, await entry.batch.callPromising(compiled, functionName, msg.args, msg.seq));
        break;
    }
  } catch (err) {
    // A JavaScript-level failure here means the interpreter is no longer trustworthy (Pyodide fatal error).
    self.postMessage({ type: "fatal", id: msg.id, message: String(err && (err as Error).stack || err) });
  }
};
