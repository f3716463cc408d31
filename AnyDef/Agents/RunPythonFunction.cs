using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

/// <summary>The <c>run_python</c> tool: a model sends Python source (and optionally a session id), the cell runs in the sandbox.</summary>
internal sealed class RunPythonFunction : AIFunction
{
    private readonly PythonRunner _runner;
    private readonly bool _ownsRunner;

    public RunPythonFunction(PythonRunner runner, bool ownsRunner)
    {
        _runner = runner;
        _ownsRunner = ownsRunner;
        Description = runner.Options.Description ?? DefaultDescription(runner);
        JsonSchema = ToolArguments.Schema(runner.Options.AllowSessions
            ? """
              {"type":"object","properties":{
                "code":{"type":"string","description":"Python source to run. The value of the last line, if it is an expression, is returned; use print() for anything else you want to see."},
                "session":{"type":"string","description":"Optional. A name for a session of your own: variables, imports and definitions persist between calls with the same session. Omit for a fresh, empty namespace."}
              },"required":["code"],"additionalProperties":false}
              """
            : """
              {"type":"object","properties":{
                "code":{"type":"string","description":"Python source to run. The value of the last line, if it is an expression, is returned; use print() for anything else you want to see."}
              },"required":["code"],"additionalProperties":false}
              """);
    }

    public override string Name => _runner.Options.Name;

    public override string Description { get; }

    public override JsonElement JsonSchema { get; }

    public PythonRunner Runner => _runner;

    internal bool OwnsRunner => _ownsRunner;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var code = ToolArguments.GetString(arguments, "code");
        if (string.IsNullOrEmpty(code)) return ToolArguments.Error("the argument 'code' (Python source, a string) is required");
        var session = _runner.Options.AllowSessions ? ToolArguments.GetString(arguments, "session") : null;
        if (session is { Length: 0 }) session = null;
        try
        {
            var result = await _runner.RunAsync(code, session, cancellationToken).ConfigureAwait(false);
            return result.ToJson();
        }
        catch (SessionEndedException ex)
        {
            return ToolArguments.Error(ex.Message);
        }
        catch (ArgumentException ex)
        {
            return ToolArguments.Error(ex.Message);
        }
    }

    private static string DefaultDescription(PythonRunner runner)
    {
        var sandbox = runner.Sandbox.Options;
        var packages = sandbox.Packages.Count == 0 ? "the standard library only" : "the standard library and " + string.Join(", ", sandbox.Packages);
        var sessions = runner.Options.AllowSessions
            ? "Without a session every call starts with an empty namespace; with the same 'session' name, variables, imports and functions persist " +
              "between calls (a session can end, after an idle time or when its process is needed; you are then told, and must start a new one). "
            : "Every call starts with an empty namespace: nothing persists between calls. ";
        return "Runs Python 3 code in a sandbox (Pyodide, WebAssembly) and returns what it printed, the value of its last expression " +
               "(as JSON when it is JSON, else its repr), or the error with its traceback. " + sessions +
               $"It can import {packages}; nothing else can be installed. It has no network, no files of the host, no subprocesses and no threads. " +
               $"Each call may run at most {runner.Options.Timeout.TotalSeconds:0.###} s and use at most {sandbox.MemoryLimitMegabytes} MiB; " +
               $"printed output beyond {runner.Options.MaxOutputCharacters} characters and values beyond {runner.Options.MaxResultCharacters} characters are cut. " +
               "Use it for exact arithmetic, data processing, parsing and checking your reasoning with code.";
    }
}
