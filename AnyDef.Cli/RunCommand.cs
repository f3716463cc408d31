using System.CommandLine;
using System.Text.Json.Nodes;

namespace AnyDefNet.Cli;

/// <summary><c>anydef run "def f(x: int) -> int" --doc "..." --args '[1]'</c>: generate (or read from the store) and run.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var signature = new Argument<string>("signature") { Description = "The Python signature, e.g. \"def slugify(text: str, max_len: int = 40) -> str\"." };
        var doc = new Option<string>("--doc") { Description = "The docstring: what the function does (doctest examples in it are checked).", Required = true };
        var args = new Option<string>("--args") { Description = "The positional arguments, a JSON array.", DefaultValueFactory = _ => "[]" };
        var kwargs = new Option<string?>("--kwargs") { Description = "The keyword arguments, a JSON object." };
        var model = new Option<string?>("--model") { Description = "The model (default: ANYDEF_MODEL, else a small OpenAI model)." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds the call may run.", DefaultValueFactory = _ => 30 };
        var store = Options.Store();
        var frozen = new Option<bool>("--frozen") { Description = "Never call the model; the function must be in the store." };
        var debug = Options.Debug();
        var (packages, index, wheels) = (Options.Packages(), Options.PackageIndex(), Options.Wheels());
        var command = new Command("run", "Generate (or read from the store) a function and run it; prints the result as JSON.")
        {
            signature, doc, args, kwargs, model, timeout, store, frozen, debug, packages, index, wheels,
        };
        command.SetAction(async (parse, ct) =>
        {
            var isDebug = parse.GetValue(debug);
            try
            {
                var positional = Options.ParseJson<JsonArray>(parse.GetValue(args)!, "--args", "a JSON array");
                var keywords = parse.GetValue(kwargs) is { } k ? Options.ParseJson<JsonObject>(k, "--kwargs", "a JSON object") : null;
                var options = new AnyDefOptions
                {
                    Model = parse.GetValue(model),
                    Timeout = Options.Seconds(parse.GetValue(timeout)),
                    StoreDirectory = parse.GetValue(store),
                    Frozen = parse.GetValue(frozen),
                    Debug = isDebug,
                    Logger = TerminalProgressLogger.IfTerminal(),
                    Packages = Options.PackageNames(parse.GetValue(packages)),
                    Sandbox = SandboxOptions.Default with { PackageIndex = parse.GetValue(index), WheelDirectory = parse.GetValue(wheels) },
                };
                var function = AnyDef.FromSignature(parse.GetValue(signature)!, parse.GetValue(doc)!, options);
                Progress.Say("preparing the sandbox and the function (the first run loads Python, generation may take a while)");
                var result = await function.InvokeAsync(positional, keywords, ct);
                Console.Out.WriteLine(result?.ToJsonString() ?? "null");
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, isDebug);
            }
        });
        return command;
    }
}
