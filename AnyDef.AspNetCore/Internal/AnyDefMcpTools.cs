using AnyDefNet.Agents;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace AnyDefNet.AspNetCore.Internal;

/// <summary>The tools an app serves, with the sandbox and <c>run_python</c> runner they use; a singleton of the app, so the
/// runner's sessions and (when the app made it) the sandbox's processes end when the app stops.</summary>
internal sealed class AnyDefMcpTools : IAsyncDisposable
{
    private readonly PythonSandbox? _ownedSandbox;
    private readonly PythonRunner? _runner;

    public AnyDefMcpTools(AnyDefMcpOptions options, ILoggerFactory? loggers)
    {
        var logger = loggers?.CreateLogger("AnyDef.Mcp");
        var sandbox = options.Sandbox ?? (_ownedSandbox = new PythonSandbox(SandboxOptions.Default, logger));
        var tools = new List<McpServerTool>();
        if (options.RunPython)
        {
            _runner = new PythonRunner(options.RunPythonOptions with { Sandbox = sandbox });
            tools.Add(McpServerTool.Create(AnyDefTools.RunPython(_runner)));
        }

        if (options.Store is { } folder)
        {
            foreach (var tool in AnyDefTools.FromStore(folder, sandbox, options.StoreTimeout, skipped => logger?.LogWarning("{Skipped}", skipped)))
                tools.Add(McpServerTool.Create(tool));
        }

        foreach (var tool in options.Functions) tools.Add(McpServerTool.Create(tool));
        Tools = tools;
    }

    public IReadOnlyList<McpServerTool> Tools { get; }

    public async ValueTask DisposeAsync()
    {
        if (_runner is not null) await _runner.DisposeAsync().ConfigureAwait(false);
        if (_ownedSandbox is not null) await _ownedSandbox.DisposeAsync().ConfigureAwait(false);
    }
}
