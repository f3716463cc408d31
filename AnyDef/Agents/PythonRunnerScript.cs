namespace AnyDefNet.Agents;

/// <summary>The Python side of <see cref="PythonRunner"/>: one fixed function that runs a cell given to it as data.</summary>
/// <remarks>The cell's source is an argument (JSON), never pasted into code. A session's state lives in its own
/// interpreter (under <c>sys.modules</c>), so a process that did not run the session's earlier cells knows it.</remarks>
internal static class PythonRunnerScript
{
    public const string FunctionName = "anydef_run_cell";

    public const string Code = """
        import builtins as _builtins, sys as _sys, json as _json, traceback as _traceback, linecache as _linecache
        import ast as _ast, inspect as _inspect, types as _types
        from pyodide.code import CodeRunner as _CodeRunner

        def _anydef_error_text(e, filename, limit):
            te = _traceback.TracebackException.from_exception(e)
            frames = list(te.stack)
            first = next((i for i, f in enumerate(frames) if f.filename.startswith("<cell")), len(frames))
            # Frames of the sandbox's own scripts would name where they lie on the host.
            te.stack = _traceback.StackSummary.from_list([f for f in frames[first:] if not f.filename.startswith("file:")])
            text = "".join(te.format())
            if not te.stack:
                text = "".join(te.format_exception_only())
            if len(text) > limit:
                text = "..." + text[-limit:]
            return text

        def anydef_run_cell(source, mode, max_result, max_error):
            # mode 0: a fresh namespace; 1: the first cell of a session; 2: a later cell of a session.
            if mode == 0:
                ns = {"__name__": "__main__", "__builtins__": _builtins}
                filename = "<cell>"
            else:
                held = _sys.modules.get("_anydef_session")
                if mode == 2 and held is None:
                    return {"lost": True}
                if mode == 1:
                    if held is not None:
                        return {"lost": True}
                    held = _types.SimpleNamespace(ns={"__name__": "__main__", "__builtins__": _builtins}, cells=0)
                    _sys.modules["_anydef_session"] = held
                held.cells += 1
                ns = held.ns
                filename = "<cell %d>" % held.cells
            outcome = {}
            try:
                runner = _CodeRunner(source, filename=filename, flags=_ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dedent=False).compile()
                _linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
                if runner.code is not None and runner.code.co_flags & _inspect.CO_COROUTINE:
                    from pyodide.ffi import run_sync
                    value = run_sync(runner.run_async(ns))
                else:
                    value = runner.run(ns)
            except (KeyboardInterrupt, MemoryError):
                raise
            except BaseException as e:
                outcome["error"] = _anydef_error_text(e, filename, max_error)
                return outcome
            if value is not None:
                try:
                    text = _json.dumps(value, ensure_ascii=False, allow_nan=False)
                    outcome["kind"] = "json"
                except (TypeError, ValueError, RecursionError):
                    try:
                        text = repr(value)
                    except (KeyboardInterrupt, MemoryError):
                        raise
                    except BaseException as e:
                        text = "<repr failed: %s>" % type(e).__name__
                    outcome["kind"] = "repr"
                if len(text) > max_result:
                    text = text[:max_result]
                    outcome["kind"] = "repr"
                    outcome["truncated"] = True
                outcome["value"] = text
            return outcome
        """;
}
