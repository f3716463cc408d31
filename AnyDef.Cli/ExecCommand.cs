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
        var timeout = new Option<double>("--timeout") { Description = "Seconds a call (each input of a batch) may run.", DefaultValueFactory = _ => 30 };
        var batchTimeout = new Option<double?>("--batch-timeout") { Description = "Seconds the whole batch may run; inputs not done by then get an error line." };
        var processes = new Option<int>("--processes")
        {
            Description = "Sandbox processes a batch may use, each its own interpreter. More run a long batch of slow calls on more cores; " +
                "each one more starts while the batch runs and competes with it for the cores, so quick calls run fastest in one.",
            DefaultValueFactory = _ => 1,
        };
        processes.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 1) result.AddError("--processes must be at least 1.");
        });
        var debug = Options.Debug();
        var (packages, index, wheels) = (Options.Packages(), Options.PackageIndex(), Options.Wheels());
        var command = new Command("exec", "Run given Python code in the sandbox, without a model.") { codeFile, function, args, batch, timeout, batchTimeout, processes, debug, packages, index, wheels };
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
                var sandbox = Sandbox(Options.PackageNames(parse.GetValue(packages)), parse.GetValue(index), parse.GetValue(wheels), parse.GetValue(processes));
                Progress.Say("starting the Python sandbox");
                if (parse.GetValue(batch) is { } batchFile) return await RunBatchAsync(sandbox, code, name, batchFile, limit, parse.GetValue(batchTimeout) is { } whole ? Options.Seconds(whole) : null, ct);

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

    // One call, one function: a spare would only be a second process to start and end. A batch's second process would
    // start in the middle of the batch (this program is its whole life), and compete with it for the cores while it
    // starts: on a 2-core machine a batch of 20,000 quick inputs ran 1.2-2x slower for it. One unless asked.
    private static PythonSandbox Sandbox(PackageSet packages, string? index, string? wheels, int processes = 1) => PythonSandbox.GetShared(SandboxOptions.Default with
    {
        SpareProcesses = 0,
        MaxProcessesPerFunction = processes,
        MaxProcesses = Math.Max(SandboxOptions.Default.MaxProcesses, processes),
        Packages = packages,
        PackageIndex = index,
        WheelDirectory = wheels,
    });

    /// <summary>
    /// Starts the sandbox process of an <c>exec</c> command line before anything else: Deno and Python then start while
    /// this program loads, parses its arguments and reads the code, instead of after. The call takes that process (it
    /// is still the only one). Only for a plain command line (no package or process options, no help), whose sandbox is the one the
    /// command will use; anything else starts nothing here.
    /// </summary>
    public static void Prestart(string[] args)
    {
        if (args.Length == 0 || args[0] != "exec" || !args.Contains("--code") || !args.Contains("--function")) return;
        if (args.Any(a => a is "-h" or "-?" or "--help" || a.StartsWith("--packages", StringComparison.Ordinal) || a.StartsWith("--processes", StringComparison.Ordinal)
            || a.StartsWith("--package-index", StringComparison.Ordinal) || a.StartsWith("--wheels", StringComparison.Ordinal)))
        {
            return;
        }

        Sandbox(PackageSet.Empty, null, null).Prestart();
    }

    // Streams: the inputs are read as the batch goes, and the result lines are written as soon as they are ready, so a
    // huge batch holds neither its inputs nor its results in memory and a killed run keeps what it printed. Lines that
    // are ready together leave in one write: the output is flushed whenever the next outcome is not ready yet.
    private static async Task<int> RunBatchAsync(PythonSandbox sandbox, string code, string name, FileInfo batchFile, TimeSpan timeout, TimeSpan? batchTimeout, CancellationToken ct)
    {
        if (!batchFile.Exists) throw new FileNotFoundException($"The batch file '{batchFile.FullName}' does not exist.");
        // A first pass checks every line, so a malformed file fails before anything runs.
        var lineNumber = 0;
        foreach (var line in File.ReadLines(batchFile.FullName))
        {
            lineNumber++;
            if (!string.IsNullOrWhiteSpace(line)) Options.ParseJson<JsonArray>(line, $"line {lineNumber} of {batchFile.Name}", "a JSON array of arguments");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        if (batchTimeout is { } whole) deadline.CancelAfter(whole);
        var inputs = File.ReadLinesAsync(batchFile.FullName, ct).Where(line => !string.IsNullOrWhiteSpace(line));
        await using var stdout = new BufferedStream(Console.OpenStandardOutput(), 64 * 1024);
        await using var writer = new Utf8JsonWriter(stdout);
        var written = 0;
        try
        {
            var outcomes = sandbox.StreamBatchAsync(code, name, inputs, timeout, deadline.Token).GetAsyncEnumerator(deadline.Token);
            await using (outcomes.ConfigureAwait(false))
            {
                while (true)
                {
                    var next = outcomes.MoveNextAsync();
                    if (!next.IsCompleted) await stdout.FlushAsync(ct);
                    if (!await next) break;
                    var r = outcomes.Current;
                    WriteLine(writer, stdout, r.Error is null, r.ResultJson, Type(r.Error), r.Error is PythonExecutionException q ? q.PythonMessage : r.Error?.Message);
                    written++;
                }
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            // The whole batch ran out of time: the inputs that finished before have their lines, and every input not yet
            // answered still gets one.
            var message = $"the batch did not finish within --batch-timeout ({batchTimeout!.Value.TotalSeconds:0.###} s); this input was not run or did not finish";
            await foreach (var _ in File.ReadLinesAsync(batchFile.FullName, ct).Where(line => !string.IsNullOrWhiteSpace(line)).Skip(written))
            {
                WriteLine(writer, stdout, false, null, "BatchTimeout", message);
            }
        }

        await stdout.FlushAsync(ct);
        return ExitCodes.Success;
    }

    // The error types a script can tell apart: the Python exception's name, or Timeout, Crash, MemoryError,
    // ResultTooLarge, ResultConversion for the sandbox's own verdicts.
    private static string? Type(AnyDefException? error) => error switch
    {
        null => null,
        PythonExecutionException p => p.PythonType,
        SandboxTimeoutException => "Timeout",
        SandboxCrashedException => "Crash",
        SandboxMemoryException => "MemoryError",
        ResultTooLargeException => "ResultTooLarge",
        _ => error.GetType().Name.Replace("Exception", "", StringComparison.Ordinal),
    };

    private static void WriteLine(Utf8JsonWriter writer, Stream stdout, bool ok, string? resultJson, string? type, string? message)
    {
        writer.WriteStartObject();
        writer.WriteBoolean("ok", ok);
        if (ok)
        {
            writer.WritePropertyName("result");
            writer.WriteRawValue(resultJson!);
        }
        else
        {
            writer.WriteStartObject("error");
            writer.WriteString("type", type);
            writer.WriteString("message", message);
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.Flush();
        writer.Reset();
        stdout.WriteByte((byte)'\n');
    }
}
