using System.CommandLine;
using AnyDefNet.Agents;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace AnyDefNet.Cli;

/// <summary><c>anydef mcp [--store DIR]</c>: a Model Context Protocol server over stdio with the <c>run_python</c> tool (with
/// sessions) and every reviewed function of a store folder as a tool of its own.</summary>
internal static class McpCommand
{
    public static Command Create()
    {
        var store = Options.Store();
        var noRunPython = new Option<bool>("--no-run-python") { Description = "Serve only the stored functions, without the run_python tool." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a run_python cell or a function call may run.", DefaultValueFactory = _ => 30 };
        var idle = new Option<double>("--session-idle") { Description = "Seconds a run_python session may stay unused before it ends.", DefaultValueFactory = _ => 600 };
        var (packages, index, wheels) = (Options.Packages(), Options.PackageIndex(), Options.Wheels());
        var command = new Command("mcp", "Serve the sandbox to agents over the Model Context Protocol (stdio): run_python, and the reviewed functions of --store as tools.")
        {
            store, noRunPython, timeout, idle, packages, index, wheels,
        };
        command.SetAction(async (parse, ct) =>
        {
            try
            {
                var limit = Options.Seconds(parse.GetValue(timeout));
                await using var sandbox = new PythonSandbox(SandboxOptions.Default with
                {
                    Packages = Options.PackageNames(parse.GetValue(packages)),
                    PackageIndex = parse.GetValue(index),
                    WheelDirectory = parse.GetValue(wheels),
                });
                var tools = new McpServerPrimitiveCollection<McpServerTool>();
                PythonRunner? runner = null;
                if (!parse.GetValue(noRunPython))
                {
                    runner = new PythonRunner(new RunPythonOptions { Sandbox = sandbox, Timeout = limit, SessionIdleTimeout = Options.Seconds(parse.GetValue(idle)) });
                    tools.Add(McpServerTool.Create(AnyDefTools.RunPython(runner)));
                }

                if (parse.GetValue(store) is { } folder)
                {
                    foreach (var tool in AnyDefTools.FromStore(folder, sandbox, limit, skipped => Console.Error.WriteLine($"anydef mcp: {skipped}"))) tools.Add(McpServerTool.Create(tool));
                }

                if (tools.Count == 0) throw new ArgumentException("There is nothing to serve: give --store with reviewed functions, or leave run_python on.");
                Console.Error.WriteLine($"anydef mcp: serving {string.Join(", ", tools.Select(t => t.ProtocolTool.Name))} over stdio");
                var options = new McpServerOptions
                {
                    ServerInfo = new Implementation { Name = "anydef", Version = typeof(AnyDef).Assembly.GetName().Version?.ToString() ?? "0" },
                    ToolCollection = tools,
                    ServerInstructions = "Tools that run Python in a sandbox with no network and no files: run_python for code of your own, and reviewed functions.",
                };
                await using var server = McpServer.Create(new StdioServerTransport("anydef"), options);
                await server.RunAsync(ct);
                if (runner is not null) await runner.DisposeAsync();
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, debug: false);
            }
        });
        return command;
    }
}
