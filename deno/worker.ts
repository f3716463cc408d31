// The Pyodide side of an AnyDef sandbox host. It runs in a Web Worker whose Deno permissions are narrowed
// to reading the Pyodide files; it never sees the protocol socket. It talks only to host.ts.
/// <reference lib="deno.worker" />

type Init = {
  indexDir: string;
  moduleUrl: string;
  memoryBytes: number;
  interrupt: SharedArrayBuffer;
  control: SharedArrayBuffer;
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

def _anydef_call(co, name, args_json, seq):
    global _anydef_running
    try:
        args = _anydef_loads(args_json)
        try:
            _anydef_enter(seq)
            try:
                return "0" + _anydef_encode(_anydef_invoke(co, name, args))
            except BaseException as e:
                return _anydef_flag(e) + _anydef_error(e)
        finally:
            _anydef_running = 0
    except BaseException as e:
        _anydef_running = 0
        return _anydef_flag(e) + _anydef_error(e)

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
        return "0" + _anydef_encoder.encode({"ok": True, "result": {"attempted": runner.tries, "failed": runner.failures, "report": out.getvalue()[-4000:]}})
    except BaseException as e:
        _anydef_running = 0
        return _anydef_flag(e) + _anydef_error(e)

# Runs the inputs one after another and hands each outcome to emit at once; stops after an interrupt or a
# MemoryError (the inputs not run go back to the library), and when emit says the chunk's output is full.
# An interrupt acts only while an input's own code runs, never inside emit or between inputs.
def _anydef_batch(co, name, batch_json, emit, seq):
    global _anydef_running
    try:
        for args in _anydef_loads(batch_json):
            try:
                _anydef_enter(seq)
                r = _anydef_invoke(co, name, args)
                _anydef_running = 0
                text = "0" + _anydef_encode(r)
            except BaseException as e:
                _anydef_running = 0
                flag = _anydef_flag(e)
                emit(flag + _anydef_error(e))
                if flag != "0":
                    return
                continue
            if not emit(text):
                return
    except BaseException:
        return
    finally:
        _anydef_running = 0
`;

// Package support in Python: unpacking a pure-Python wheel, and finding which top-level modules a piece of code
// imports that are neither in the standard library, nor declared, nor otherwise importable here. Part of the
// snapshot (defined on first use when there is none).
const IMPORT_CHECK = String.raw`
import sys as _anydef_sys, json as _anydef_json, importlib.util as _anydef_util, os as _anydef_os, zipfile as _anydef_zip
import encodings.cp437  # zip member names; compiled from source on first use otherwise (~0.1 s)
from pyodide.code import find_imports as _anydef_find_imports

def _anydef_install_wheel(path, site):
    # A pure-Python wheel is a zip to unpack into site-packages (its .data/purelib and platlib too).
    with _anydef_zip.ZipFile(path) as z:
        for info in z.infolist():
            parts = info.filename.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            if not parts[-1] or ".." in parts or info.filename.startswith("/"):
                continue
            target = _anydef_os.path.join(site, *parts)
            _anydef_os.makedirs(_anydef_os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, "wb") as dst:
                dst.write(src.read())
    _anydef_os.remove(path)

def _anydef_undeclared(code, declared_json):
    try:
        names = _anydef_find_imports(code)
    except SyntaxError:
        return "[]"
    declared = set(_anydef_json.loads(declared_json))
    missing = []
    for name in names:
        top = name.split(".")[0]
        if not top or top in _anydef_sys.stdlib_module_names or top in declared or top in missing:
            continue
        try:
            if _anydef_util.find_spec(top) is not None:
                continue
        except Exception:
            pass
        missing.append(top)
    return _anydef_json.dumps(missing)
`;

type Install = { files: { path: string; pure: boolean }[]; imports: string[]; describe: string };
let declared: Install = { files: [], imports: [], describe: "" };
let importCheck: any;

// Installs the function's packages from the files the library verified and linked into this host's package folder.
async function install(spec: Install) {
  if (!pyodide.globals.has("_anydef_undeclared")) pyodide.runPython(IMPORT_CHECK);
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const f of spec.files) {
    if (f.pure) {
      pyodide.FS.writeFile("/tmp/anydef-package.whl", await Deno.readFile(f.path));
      const unpack = pyodide.globals.get("_anydef_install_wheel");
      unpack("/tmp/anydef-package.whl", site);
      unpack.destroy();
    }
    else {
      const errors: string[] = [];
      const loaded = await pyodide.loadPackage(new URL("file://" + f.path).href, { messageCallback: () => {}, errorCallback: (m: string) => errors.push(m), checkIntegrity: false });
      if (loaded.length === 0) throw new Error(`Pyodide could not load ${f.path}: ${errors.join("; ") || "no reason given"}`);
    }
  }
  // Forget the cached listing of site-packages only (importlib.invalidate_caches costs ~0.2 s here).
  pyodide.runPython(`import sys; sys.path_importer_cache.pop(${JSON.stringify(site)}, None)`);
  declared = spec;
}

function undeclaredImports(code: string): string | undefined {
  if (!importCheck) {
    if (!pyodide.globals.has("_anydef_undeclared")) pyodide.runPython(IMPORT_CHECK);
    importCheck = pyodide.globals.get("_anydef_undeclared");
  }
  const missing: string[] = JSON.parse(importCheck(code, JSON.stringify(declared.imports)));
  if (missing.length === 0) return undefined;
  const available = declared.describe ? "the standard library and the packages " + declared.describe : "the standard library";
  return JSON.stringify({
    ok: false,
    type: "ModuleNotFoundError",
    message: `No module named ${missing.map((m) => `'${m}'`).join(", ")}: this sandbox has only ${available}, and nothing can be installed from inside it`,
    traceback: "",
  });
}

let pyodide: any;
// The runtime's entry points, looked up once: a lookup per call would leave a proxy behind per call.
// deno-lint-ignore no-explicit-any
let entry: Record<"call" | "doctest" | "batch", any>;
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
    // Packages are only ever loaded from files the library linked in; an empty cache folder keeps Pyodide from
    // stat-ing (and trying to create) a folder next to its own files, which the worker may not do.
    packageCacheDir: "",
  };
  if (msg.makeSnapshot) options._makeSnapshot = true;
  if (msg.snapshot) options._loadSnapshot = msg.snapshot;
  const { loadPyodide } = await import(msg.moduleUrl);
  pyodide = await loadPyodide(options);
  if (!msg.snapshot) {
    pyodide.runPython(RUNTIME);
    pyodide.runPython(IMPORT_CHECK);
  }
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
      case "install":
        try {
          await install(JSON.parse(msg.args));
          reply(msg.id, '0{"ok":true,"result":null}');
        } catch (err) {
          reply(msg.id, "0" + JSON.stringify({ ok: false, type: "PackageError", message: String(err).slice(0, 4000), traceback: "" }));
        }
        break;
      case "load": {
        const undeclared = undeclaredImports(msg.code);
        if (undeclared) {
          reply(msg.id, "0" + undeclared);
          break;
        }
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
        pending = [];
        pendingId = msg.id;
        done = 0;
        batchBytes = 0;
        batchStart = msg.start;
        lastFlush = performance.now();
        Atomics.store(spillHeader, 0, 0);
        Atomics.store(spillHeader, 1, 0);
        await entry.batch.callPromising(compiled, functionName, msg.args, emit, msg.seq);
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
