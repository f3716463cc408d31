# The AnyDef runtime inside Python: loaded once into each interpreter (and baked into the snapshot when there is one)
# by worker.ts. Kept small: it compiles once, runs each call in a fresh namespace, and turns every outcome into JSON
# text so that no Python object crosses into JavaScript.
import builtins as _b, json as _json, sys as _sys, traceback as _tb, inspect as _inspect, re as _re
from decimal import Decimal as _anydef_Decimal

# Integers of any size cross exactly (Python refuses int/str conversions over 4,300 digits by default).
_sys.set_int_max_str_digits(0)

# A Decimal result travels as a JSON number with all its digits: the encoder writes it as a marked string, which is
# then unquoted in the text (the marker carries a per-runtime nonce, so no string of the result can look like it).
_anydef_decimal_mark = "\x00" + __import__("secrets").token_hex(8) + ":"
_anydef_decimal_text = _re.compile('"\\\\u0000' + _anydef_decimal_mark[1:] + '([-+0-9.eE]+)"')
_anydef_decimals = [False]

def _anydef_default(o):
    if isinstance(o, _anydef_Decimal):
        if not o.is_finite():
            raise ValueError(f"Decimal('{o}') is not a finite number")
        _anydef_decimals[0] = True
        return _anydef_decimal_mark + str(o)
    if isinstance(o, (set, frozenset)):
        return sorted(o, key=repr)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "__dict__"):
        return o.__dict__
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")

_anydef_encoder = _json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=_anydef_default)
_anydef_loads = _json.loads

# Values JSON cannot type for Python travel with a descriptor of where they are (see WireTypes in the library):
# "d" a Decimal sent as its text, "f" a float sent as NaN/Infinity/-Infinity text, ["l", x] list, ["m", x] dict
# values, {"field": x} a record.
_anydef_specials = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}

def _anydef_typed(v, d):
    if v is None or d is None:
        return v
    if d == "f":
        if type(v) is int:
            f = float(v)
            return f if f == v else v
        return _anydef_specials[v] if type(v) is str else v
    if d == "d":
        return _anydef_Decimal(v) if type(v) is str else v
    if type(d) is dict:
        for k, sub in d.items():
            if k in v:
                v[k] = _anydef_typed(v[k], sub)
        return v
    if d[0] == "l":
        return [_anydef_typed(x, d[1]) for x in v]
    return {k: _anydef_typed(x, d[1]) for k, x in v.items()}

def _anydef_args(args):
    if len(args) > 2:
        positional = args[0]
        for i, d in enumerate(args[2]):
            if d is not None and i < len(positional):
                positional[i] = _anydef_typed(positional[i], d)
    if len(args) > 3:
        keywords = args[1]
        for k, d in args[3].items():
            if k in keywords:
                keywords[k] = _anydef_typed(keywords[k], d)
    return args

# NaN and the infinities are not JSON: in a result they travel as the strings the library reads back as floats.
def _anydef_finite(v):
    if isinstance(v, float):
        return "NaN" if v != v else "Infinity" if v == float("inf") else "-Infinity" if v == float("-inf") else v
    if isinstance(v, (list, tuple)):
        return [_anydef_finite(x) for x in v]
    if isinstance(v, dict):
        return {k: _anydef_finite(x) for k, x in v.items()}
    return v

_anydef_surrogate = _re.compile("[\ud800-\udfff]")

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
        _anydef_shared[:] = [co, ns] if _anydef_keeps_no_state(co, ns) else [None, None]
        return co, "0" + _anydef_encoder.encode({"ok": True, "params": params})
    except BaseException as e:
        return None, _anydef_flag(e) + _anydef_error(e)

# A fresh namespace per call is a promise: one call's module-level state never reaches the next. Executing the module
# again for every call keeps it, at about half the cost of a small call. Code that provably keeps no state in its
# namespace gets the same guarantee without that: its module body only binds names (no call runs at import), every
# name is bound to a function, a module or an immutable constant, no function has a mutable default, and no code in it
# rebinds a global, sets an attribute, or reaches for a namespace (globals(), __globals__, exec, getattr, frames...).
# Anything else is executed afresh for every call, as before.
_anydef_shared = [None, None]
_anydef_immutable = (int, float, complex, str, bytes, bool, type(None), range, type(Ellipsis))
_anydef_risky_names = frozenset({
    "globals", "vars", "locals", "exec", "eval", "compile", "__import__", "getattr", "setattr", "delattr",
    "__globals__", "__dict__", "__defaults__", "__kwdefaults__", "__code__", "__closure__", "__builtins__",
    "f_globals", "f_locals", "f_back", "_getframe", "currentframe", "stack", "get_referrers", "get_objects",
    "tb_frame", "gi_frame", "cr_frame",
})

def _anydef_frozen(value, depth=0):
    if isinstance(value, _anydef_immutable):
        return True
    if type(value) in (tuple, frozenset) and depth < 8:
        return all(_anydef_frozen(v, depth + 1) for v in value)
    return False

def _anydef_quiet_code(co, module):
    import dis
    if _anydef_risky_names.intersection(co.co_names):
        return False
    for ins in dis.get_instructions(co):
        op = ins.opname
        if op in ("STORE_GLOBAL", "DELETE_GLOBAL", "STORE_ATTR", "DELETE_ATTR") or (module and op.startswith("CALL")):
            return False
    return all(_anydef_quiet_code(c, False) for c in co.co_consts if hasattr(c, "co_code"))

def _anydef_keeps_no_state(co, ns):
    import types
    try:
        if not _anydef_quiet_code(co, True):
            return False
        for key, value in ns.items():
            if key in ("__name__", "__builtins__") or _anydef_frozen(value):
                continue
            if isinstance(value, (types.ModuleType, types.BuiltinFunctionType)):
                continue
            if type(value) is types.FunctionType and value.__globals__ is ns and not value.__dict__ and value.__closure__ is None \
                    and _anydef_frozen(value.__defaults__ or ()) and _anydef_frozen(tuple((value.__kwdefaults__ or {}).values())):
                continue
            return False
        return True
    except Exception:
        return False

def _anydef_invoke(co, name, args):
    if _anydef_shared[0] is co:
        ns = _anydef_shared[1]
    else:
        ns = {"__name__": "__anydef__", "__builtins__": _b}
        exec(co, ns)
    args = _anydef_args(args)
    r = ns[name](*args[0], **args[1])
    if _inspect.iscoroutine(r):
        from pyodide.ffi import run_sync
        r = run_sync(r)
    return r

def _anydef_encode(r):
    _anydef_decimals[0] = False
    try:
        try:
            s = _anydef_encoder.encode(r)
        except ValueError as e:
            if "Out of range float" not in str(e):
                raise
            s = _anydef_encoder.encode(_anydef_finite(r))
    except (TypeError, ValueError, RecursionError) as e:
        return _anydef_encoder.encode({"ok": False, "type": type(e).__name__, "message": str(e), "traceback": "",
                                       "unencodable": repr(r)[:500]})
    if _anydef_decimals[0]:
        s = _anydef_decimal_text.sub(r"\1", s)
    # A lone surrogate (a str may hold one) travels as its \\u escape, exactly, instead of being replaced on the way.
    if not s.isascii() and _anydef_surrogate.search(s):
        s = _anydef_surrogate.sub(lambda m: "\\u%04x" % ord(m.group()), s)
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
