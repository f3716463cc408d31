using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Cli;

/// <summary><c>anydef exec --code FILE --function NAME (--args JSON | --batch FILE.jsonl)</c>: run given code, no model.</summary>
internal static class ExecCommand
{
    public static Command Create()
    {
        var codeFile = new Option<FileInfo>("--code") { Description = "The Python file that defines the function.", Required = true };
        var function = new Option<string>("--function") { Description = "The function to call.", Required = true };
        var args = new Option<string?>("--args") { Description = "The positional arguments, a JSON array." };
        var batch = new Option<FileInfo?>("--batch") { Description = "A JSON Lines file: one JSON array of arguments per line; one result line per input, in order." };
        var timeout = new Option<double>("--timeout") { Description = "Seconds a call (or the whole batch) may run.", DefaultValueFactory = _ => 30 };
        var debug = Options.Debug();
        var (packages, index, wheels) = (Options.Packages(), Options.PackageIndex(), Options.Wheels());
        var command = new Command("exec", "Run given Python code in the sandbox, without a model.") { codeFile, function, args, batch, timeout, debug, packages, index, wheels };
        command.Validators.Add(result =>
        {
            if ((result.GetValue(args) is null) == (result.GetValue(batch) is null)) result.AddError("Give exactly one of --args or --batch.");
        });
        command.SetAction(async (parse, ct) =>
        {
            var isDebug = parse.GetValue(debug);
            try
            {
                var file = parse.GetValue(codeFile)!;
                if (!file.Exists) throw new FileNotFoundException($"The code file '{file.FullName}' does not exist.");
                var code = await File.ReadAllTextAsync(file.FullName, ct);
                var name = parse.GetValue(function)!;
                var limit = Options.Seconds(parse.GetValue(timeout));
                // One call, one function: a spare would only be a second process to start and end.
                var sandbox = PythonSandbox.GetShared(SandboxOptions.Default with
                {
                    SpareProcesses = 0,
                    Packages = Options.PackageNames(parse.GetValue(packages)),
                    PackageIndex = parse.GetValue(index),
                    WheelDirectory = parse.GetValue(wheels),
                });
                Progress.Say("starting the Python sandbox");
                if (parse.GetValue(batch) is { } batchFile) return await RunBatchAsync(sandbox, code, name, batchFile, limit, ct);

                var positional = Options.ParseJson<JsonArray>(parse.GetValue(args)!, "--args", "a JSON array");
                var result = await sandbox.RunAsync(code, name, positional.ToJsonString(), timeout: limit, cancellationToken: ct);
                if (isDebug && result.Output.Length > 0) Console.Error.Write(result.Output);
                Console.Out.WriteLine(JsonNode.Parse(result.ResultJson)?.ToJsonString() ?? "null");
                return ExitCodes.Success;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return ExitCodes.Report(ex, isDebug);
            }
        });
        return command;
    }

    private static async Task<int> RunBatchAsync(PythonSandbox sandbox, string code, string name, FileInfo batchFile, TimeSpan timeout, CancellationToken ct)
    {
        if (!batchFile.Exists) throw new FileNotFoundException($"The batch file '{batchFile.FullName}' does not exist.");
        var inputs = new List<string>();
        var lineNumber = 0;
        foreach (var line in await File.ReadAllLinesAsync(batchFile.FullName, ct))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            inputs.Add(Options.ParseJson<JsonArray>(line, $"line {lineNumber} of {batchFile.Name}", "a JSON array of arguments").ToJsonString());
        }

        var results = await sandbox.RunBatchAsync(code, name, inputs, timeout, ct);
        using var stdout = Console.OpenStandardOutput();
        using var writer = new Utf8JsonWriter(stdout);
        foreach (var r in results)
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", r.Error is null);
            if (r.Error is null)
            {
                writer.WritePropertyName("result");
                writer.WriteRawValue(r.ResultJson!);
            }
            else
            {
                writer.WriteStartObject("error");
                writer.WriteString("type", r.Error is PythonExecutionException p ? p.PythonType : r.Error.GetType().Name.Replace("Exception", "", StringComparison.Ordinal));
                writer.WriteString("message", r.Error is PythonExecutionException q ? q.PythonMessage : r.Error.Message);
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
            writer.Flush();
            writer.Reset();
            stdout.WriteByte((byte)'\n');
        }

        return ExitCodes.Success;
    }
}
