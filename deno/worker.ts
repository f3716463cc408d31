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
  cancel: SharedArrayBuffer;
  maxResultBytes: number;
  snapshot?: Uint8Array;
  makeSnapshot: boolean;
  profile?: boolean;
};

// The Python side of the runtime lives in runtime.py beside this file: read once at start (and baked into the
// snapshot when there is one), so it can be read, linted and tested as Python.
const RUNTIME_URL = new URL("./runtime.py", import.meta.url);

// Python reaches every global of this worker and can replace any built-in. Everything the worker uses to touch the
// memory it shares with the host, or to talk to it, is taken here, when the module loads, before any untrusted code
// exists, and called without looking anything up again (a replaced Atomics.store or subarray would otherwise be handed
// the shared memory itself). What the host reads back is still checked there: this only keeps the handles out of reach.
const apply = Reflect.apply;
const { wait: atomicsWait, load: atomicsLoad, store: atomicsStore, add: atomicsAdd, notify: atomicsNotify } = Atomics;
const typedArray = Object.getPrototypeOf(Uint8Array.prototype);
const subarrayOf: (this: Uint8Array, from: number) => Uint8Array = typedArray.subarray;
const sliceOf: (this: Uint8Array, from: number, to: number) => Uint8Array = typedArray.slice;
const setOf: (this: Float64Array, values: number[], at: number) => void = typedArray.set;
const encodeIntoOf = TextEncoder.prototype.encodeInto;
const decodeOf = TextDecoder.prototype.decode;
const clock = Date.now;
const perfNow = performance.now.bind(performance);
const jsonParse = JSON.parse;
const jsonStringify = JSON.stringify;
const postMessage = self.postMessage.bind(self);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const encodeAt = (text: string, into: Uint8Array, at: number): number => apply(encodeIntoOf, encoder, [text, apply(subarrayOf, into, [at])]).written;

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

type Install = { files: { path: string; pure: boolean; sha256: string | null }[]; imports: string[]; describe: string };
let declared: Install = { files: [], imports: [], describe: "" };
let importCheck: any;

// Installs the function's packages from the files the library verified and linked into this host's package folder.
// Every file is read once and its SHA-256 checked on those very bytes before any is installed, so a file changed on
// disk after the library checked it is refused (the library names it, fetches it again and retries).
async function install(spec: Install) {
  if (!pyodide.globals.has("_anydef_undeclared")) pyodide.runPython(IMPORT_CHECK);
  const site = pyodide.runPython("import site; site.getsitepackages()[0]");
  const contents: Uint8Array[] = [];
  const changed: string[] = [];
  for (const f of spec.files) {
    const bytes = await Deno.readFile(f.path);
    // (No hash only in the library's benchmark of what the check costs.)
    const digest = f.sha256 === null ? undefined : new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    if (digest && Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("") !== f.sha256) changed.push(f.path);
    contents.push(bytes);
  }
  if (changed.length > 0) throw Object.assign(new Error(`the package files ${changed.join(", ")} do not have the SHA-256 they were verified with`), { changed });
  for (const [i, f] of spec.files.entries()) {
    if (f.pure) {
      pyodide.FS.writeFile("/tmp/anydef-package.whl", contents[i]);
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
  pyodide.runPython(`import sys; sys.path_importer_cache.pop(${jsonStringify(site)}, None)`);
  declared = spec;
}

function undeclaredImports(code: string): string | undefined {
  if (!importCheck) {
    if (!pyodide.globals.has("_anydef_undeclared")) pyodide.runPython(IMPORT_CHECK);
    importCheck = pyodide.globals.get("_anydef_undeclared");
  }
  const missing: string[] = jsonParse(importCheck(code, jsonStringify(declared.imports)));
  if (missing.length === 0) return undefined;
  const available = declared.describe ? "the standard library and the packages " + declared.describe : "the standard library";
  return jsonStringify({
    ok: false,
    type: "ModuleNotFoundError",
    message: `No module named ${missing.map((m) => `'${m}'`).join(", ")}: this sandbox has only ${available}, and nothing can be installed from inside it`,
    traceback: "",
  });
}

let pyodide: any;
// The runtime's entry points, looked up once: a lookup per call would leave a proxy behind per call.
// deno-lint-ignore no-explicit-any
let entry: Record<"call" | "doctest", any>;
let progress: Int32Array;
// The running group's outcomes not yet handed to the host: sent every millisecond or 64 outcomes, so a long group
// costs few messages and a process that dies loses at most the last moment's results.
let pending: string[] = [];
// Beside each pending outcome of a group of calls: its captured output and (timing mode) its durations.
let pendingOut: string[] = [];
let pendingProf: number[][] = [];
// A copy of the pending outcomes in memory the host can read, for when this worker gets stuck in an input (a C loop
// past its timeout): the host then still has every outcome before it. Header: [bytes used, index of the first].
let spillHeader: Int32Array;
let spillBytes: Uint8Array;
let pendingId = 0;
// The time the running group's calls spent in Python, in ms, and how many ran.
let groupPython = 0;
let groupCalls = 0;
const tookPerCall = () => (groupCalls > 0 ? groupPython / groupCalls : 0);
let lastFlush = 0;
let done = 0;
let groupStart = 0;
// Whether anything went to the host by postMessage during the running group: its outcomes then follow the same way,
// so that they arrive after it.
let posted = false;
// deno-lint-ignore no-explicit-any
function post(message: any) {
  posted = true;
  postMessage(message);
}

// The mailbox shared with the host: groups of calls arrive there, and their outcomes go back there when they fit. Its
// layout is the host's, sent with init (before any untrusted code runs). Atomics is taken now, before any untrusted
// code runs, so that Python cannot turn the wait into a spin (which would burn a core while no call runs).
type MailboxLayout = Record<
  | "maxGroup" | "inSeq" | "inKind" | "inJob" | "inCount" | "inBytes" | "outSeq" | "outJob" | "outCount" | "outBytes" | "outSpent" | "outFrom"
  | "startAt" | "tookAt" | "inLensAt" | "outLensAt" | "profsAt" | "inAt" | "inSize" | "outSize" | "calls" | "messages",
  number
>;
let BOX: MailboxLayout;
let box: Int32Array | undefined;
let boxStart: Float64Array;
let boxTook: Float64Array;
let boxInLens: Int32Array;
let boxOutLens: Int32Array;
let boxProfs: Float64Array;
let boxIn: Uint8Array;
let boxOut: Uint8Array;
let inSeen = 0;

function openMailbox(mailbox: SharedArrayBuffer, layout: MailboxLayout) {
  BOX = Object.freeze({ ...layout });
  const MAX_GROUP = BOX.maxGroup;
  box = new Int32Array(mailbox, 0, 16);
  boxStart = new Float64Array(mailbox, BOX.startAt, 1);
  boxTook = new Float64Array(mailbox, BOX.tookAt, 1);
  boxInLens = new Int32Array(mailbox, BOX.inLensAt, MAX_GROUP * 2);
  boxOutLens = new Int32Array(mailbox, BOX.outLensAt, MAX_GROUP * 2);
  boxProfs = new Float64Array(mailbox, BOX.profsAt, MAX_GROUP * 3);
  boxIn = new Uint8Array(mailbox, BOX.inAt, BOX.inSize);
  boxOut = new Uint8Array(mailbox, BOX.inAt + BOX.inSize, BOX.outSize);
}

// Runs the groups of calls the host puts in the mailbox, blocked (using no CPU) while there are none, until the host
// says a message waits: then it returns, so that the event loop delivers it. Nothing else runs in this worker
// meanwhile: a timer that code left behind does not fire while no call runs.
async function serveMailbox() {
  const b = box!;
  while (true) {
    const seq = atomicsLoad(b, BOX.inSeq);
    if (seq === inSeen) {
      atomicsWait(b, BOX.inSeq, seq);
      continue;
    }
    inSeen = seq;
    if (atomicsLoad(b, BOX.inKind) !== BOX.calls) return;
    const count = b[BOX.inCount];
    const text: string = apply(decodeOf, decoder, [apply(sliceOf, boxIn, [0, b[BOX.inBytes]])]);
    const calls: { seq: number; args: string }[] = [];
    for (let k = 0, at = 0; k < count; k++) {
      const len = boxInLens[2 * k + 1];
      calls.push({ seq: boxInLens[2 * k], args: text.slice(at, at + len) });
      at += len;
    }
    await runCalls(b[BOX.inJob], boxStart[0], calls, perfNow());
  }
}

// The outcomes of a group into the mailbox, when they fit: per call the lengths of its outcome and its output, then
// the texts.
function shareReply(id: number, spent: boolean): boolean {
  const b = box;
  if (!b || posted || halted) return false;
  let chars = 0;
  for (let i = 0; i < pending.length; i++) chars += pending[i].length + pendingOut[i].length;
  if (chars * 3 > boxOut.length) return false;
  let at = 0;
  for (let i = 0; i < pending.length; i++) {
    boxOutLens[2 * i] = pending[i].length;
    boxOutLens[2 * i + 1] = pendingOut[i].length;
    at += encodeAt(pending[i], boxOut, at);
    at += encodeAt(pendingOut[i], boxOut, at);
    if (profiling) apply(setOf, boxProfs, [pendingProf[i], 3 * i]);
  }
  b[BOX.outJob] = id;
  b[BOX.outCount] = pending.length;
  b[BOX.outBytes] = at;
  b[BOX.outSpent] = spent ? 1 : 0;
  b[BOX.outFrom] = done - pending.length;
  boxTook[0] = tookPerCall();
  atomicsAdd(b, BOX.outSeq, 1);
  atomicsNotify(b, BOX.outSeq);
  return true;
}

function flush() {
  if (pending.length > 0) post({ type: "items", id: pendingId, from: done - pending.length, texts: pending, outs: pendingOut, profs: profiling ? pendingProf : undefined });
  pending = [];
  pendingOut = [];
  pendingProf = [];
  atomicsStore(spillHeader, 0, 0);
  atomicsStore(spillHeader, 1, done);
  lastFlush = perfNow();
}

// Copies an outcome into the spill, newline-separated (outcome texts are single-line JSON); false when it has no room.
function spill(text: string): boolean {
  const used = atomicsLoad(spillHeader, 0);
  if (text.length * 3 + 1 > spillBytes.length - used) return false;
  const written = encodeAt(text, spillBytes, used);
  spillBytes[used + written] = 10;
  atomicsStore(spillHeader, 0, used + written + 1);
  return true;
}

// Set once code has tried to end its worker or process: the host is told at once and ends this process, so nothing
// after that may run or be counted (Python sees the refusal as an exception it could catch and go on from).
let halted = false;

// `last`: the reply follows at once, with this outcome in it. `prof` (timing mode): [before Python, Python, after], in ms.
function emit(text: string, out: string, last: boolean, prof?: number[]) {
  if (halted) return;
  pending.push(text);
  pendingOut.push(out);
  if (profiling) pendingProf.push(prof ?? [0, 0, 0]);
  done++;
  atomicsStore(progress, 1, clock() - groupStart);
  atomicsStore(progress, 0, done);
  if (last) spill(text);
  else if (pending.length >= 64 || perfNow() - lastFlush >= 1 || !spill(text)) flush();
}

// Python reaches JavaScript, so what would end this worker or start work outside a call is taken away before
// any untrusted code runs: ending the worker or the process is reported as a crash at once, and nested workers
// (which would run on after the call returned) are refused.
function lockDown() {
  const ended = (what: string) => () => {
    if (!halted) flush();
    halted = true;
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
  // Only this worker's own code talks to the host (through the handle taken above): a message posted by Python could
  // pose as a reply.
  const refused = function postMessage() {
    throw new Error("the AnyDef sandbox does not let code post messages to its host");
  };
  fix(globalThis, "postMessage", refused);
  for (let proto = Object.getPrototypeOf(globalThis); proto; proto = Object.getPrototypeOf(proto)) {
    if (Object.prototype.hasOwnProperty.call(proto, "postMessage")) fix(proto, "postMessage", refused);
  }
}
let compiled: any;
let functionName = "";
// Code with no coroutine in sight is called directly; only code that may await needs a promising (stack-switching) call.
let awaits = true;
let cancelFlags: Uint8Array;
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

// Pyodide restores a snapshot by copying all of it over the fresh WebAssembly memory, zeros included, and every page
// written becomes resident: about half of a 30 MB snapshot is zeros that a plain start never touches. While the
// snapshot loads (before any untrusted code exists), that one copy skips the pages that are zero on both sides.
function sparseSnapshotCopy(snapshot: ArrayBuffer): () => void {
  const own = Object.getOwnPropertyDescriptor(Int8Array.prototype, "set");
  const set = typedArray.set;
  Object.defineProperty(Int8Array.prototype, "set", {
    configurable: true,
    writable: true,
    value: function (this: Int8Array, source: ArrayLike<number>, offset = 0) {
      if (!(source instanceof Uint8Array || source instanceof Int8Array) || source.buffer !== snapshot || offset !== 0) {
        return apply(set, this, [source, offset]);
      }
      copyNonZeroPages(this, source, (from, to) => apply(set, this, [apply(subarrayOf, source, [from, to]), from]));
    },
  });
  return () => {
    if (own) Object.defineProperty(Int8Array.prototype, "set", own);
    else delete (Int8Array.prototype as { set?: unknown }).set;
  };
}

function copyNonZeroPages(target: Int8Array, source: Uint8Array | Int8Array, copy: (from: number, to: number) => void) {
  const PAGE = 4096;
  const length = source.length;
  if (source.byteOffset % 4 !== 0 || target.byteOffset % 4 !== 0 || target.length < length) {
    copy(0, length);
    return;
  }
  const from32 = new Int32Array(source.buffer, source.byteOffset, length >> 2);
  const to32 = new Int32Array(target.buffer, target.byteOffset, length >> 2);
  const zero = (words: Int32Array, at: number, end: number) => {
    for (let i = at; i < end; i++) if (words[i] !== 0) return false;
    return true;
  };
  // Runs of pages to copy go in one piece; a last partial page is always copied.
  let run = -1;
  for (let page = 0; page < length; page += PAGE) {
    const end = Math.min(page + PAGE, length);
    const at = page >> 2, words = end >> 2;
    const skip = end - page === PAGE && zero(from32, at, words) && zero(to32, at, words);
    if (!skip && run < 0) run = page;
    if (skip && run >= 0) {
      copy(run, page);
      run = -1;
    }
  }
  if (run >= 0) copy(run, length);
}

let profiling = false;

async function init(msg: Init) {
  profiling = msg.profile === true;
  capWasmMemory(msg.memoryBytes);
  lockDown();
  progress = msg.progress;
  spillHeader = new Int32Array(msg.spill, 0, 2);
  spillBytes = new Uint8Array(msg.spill, 8);
  cancelFlags = new Uint8Array(msg.cancel);
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
  const restore = msg.snapshot ? sparseSnapshotCopy(msg.snapshot.buffer as ArrayBuffer) : undefined;
  try {
    pyodide = await loadPyodide(options);
  } finally {
    restore?.();
  }
  if (!msg.snapshot) {
    pyodide.runPython(await Deno.readTextFile(RUNTIME_URL));
    pyodide.runPython(IMPORT_CHECK);
  }
  pyodide.setInterruptBuffer(new Uint8Array(msg.interrupt));
  // Pyodide keeps its options: without this the 30 MB snapshot would stay in memory as long as the process.
  delete options._loadSnapshot;
  if (pyodide._api?.config) delete pyodide._api.config._loadSnapshot;
  // And its memory goes now, not at some later full collection: detached, the buffer's memory is released at once.
  if (msg.snapshot) (msg.snapshot.buffer as ArrayBuffer).transfer(0);
  if (!msg.makeSnapshot) {
    const setup = pyodide.globals.get("_anydef_setup");
    setup(new Int32Array(msg.control));
    setup.destroy();
    entry = { call: pyodide.globals.get("_anydef_call"), doctest: pyodide.globals.get("_anydef_doctest") };
  }
  if (!msg.makeSnapshot) pyodide.runPython(`_anydef_limit[0] = ${Math.floor(msg.maxResultBytes)}`);
  if (msg.makeSnapshot) {
    const bytes: Uint8Array = pyodide.makeMemorySnapshot();
    postMessage({ type: "snapshot", bytes }, [bytes.buffer]);
    return;
  }
  takeStdout();
  postMessage({ type: "ready" });
}

function reply(id: number, text: string, prof?: number[]) {
  post({ type: "reply", id, text, stdout: takeStdout(), prof });
}

function beginItems(id: number, start: number) {
  pending = [];
  pendingOut = [];
  pendingProf = [];
  pendingId = id;
  done = 0;
  groupPython = 0;
  groupCalls = 0;
  groupStart = start;
  lastFlush = perfNow();
  atomicsStore(spillHeader, 0, 0);
  atomicsStore(spillHeader, 1, 0);
}

// A group of calls, run one after another; each outcome goes to the host as soon as a few are ready (and to the
// spill at once), so a process that dies loses at most the last moment's results.
async function runCalls(id: number, start: number, calls: { seq: number; args: string }[], received: number) {
  posted = false;
  beginItems(id, start);
  let spent = false;
  for (let k = 0; k < calls.length; k++) {
    // Skipped: cancelled, or past its deadline, before it began.
    const last = k === calls.length - 1;
    if (atomicsLoad(cancelFlags, k) !== 0) {
      emit("3", "", last);
      continue;
    }
    // How long Python took, on average over the group, travels with the group's reply: the library sends a function's
    // calls to its processes by it.
    const before = perfNow();
    const text: string = awaits
      ? await entry.call.callPromising(compiled, functionName, calls[k].args, calls[k].seq)
      : entry.call(compiled, functionName, calls[k].args, calls[k].seq);
    const after = perfNow();
    groupPython += after - before;
    groupCalls++;
    emit(text, takeStdout(), last, profiling ? [before - received, after - before, 0] : undefined);
    if (halted) break;
    if (text[0] === "1") {
      spent = true;
      break;
    }
  }
  // The last outcomes travel with the reply itself: one message for a group that ran quickly.
  if (!shareReply(id, spent)) post({ type: "reply", id, spent, from: done - pending.length, texts: pending, outs: pendingOut, profs: profiling ? pendingProf : undefined });
  pending = [];
  pendingOut = [];
  pendingProf = [];
  atomicsStore(spillHeader, 0, 0);
  atomicsStore(spillHeader, 1, done);
}

self.onmessage = async (e: MessageEvent) => {
  const received = profiling ? perfNow() : 0;
  const msg = e.data;
  try {
    switch (msg.type) {
      case "init":
        await init(msg);
        if (msg.mailbox && !msg.makeSnapshot) openMailbox(msg.mailbox, msg.mailboxLayout);
        break;
      case "install":
        try {
          await install(jsonParse(msg.args));
          reply(msg.id, '0{"ok":true,"result":null}');
        } catch (err) {
          reply(msg.id, "0" + jsonStringify({ ok: false, type: "PackageError", message: String(err).slice(0, 4000), traceback: "", changed: (err as { changed?: string[] }).changed ?? [] }));
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
          awaits = /\b(async|await|run_sync|asyncio)\b/.test(msg.code);
        }
        reply(msg.id, text);
        break;
      }
      case "calls":
        await runCalls(msg.id, msg.start, msg.calls, received);
        break;
      case "doctest":
        reply(msg.id, await entry.doctest.callPromising(compiled, functionName, msg.args, msg.seq));
        break;
    }
    // Back to the mailbox until the host has a message for this worker again.
    if (box) await serveMailbox();
  } catch (err) {
    // A JavaScript-level failure here means the interpreter is no longer trustworthy (Pyodide fatal error).
    flush();
    post({ type: "fatal", id: msg.id, message: String(err && (err as Error).stack || err) });
  }
};
