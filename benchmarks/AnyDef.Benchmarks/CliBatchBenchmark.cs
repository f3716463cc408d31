using System.Diagnostics;
using System.Globalization;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// What one more line costs <c>anydef exec --batch</c>: the built command run over a file of 1 line and over a file of
/// many lines of <c>add</c>, in alternation, the median wall time of each; (many - 1) / (lines - 1) is the cost of an
/// extra line, the process's start and its first call taken out. Beside it, measured in the same run in this process:
/// <see cref="AnyDefFunction{TArgs,TResult}.MapAsync"/> over 1,000 inputs and <see cref="PythonSandbox.StreamBatchAsync"/>
/// over as many inputs as the file (what the command runs inside), per input.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --cli-batch [--lines N] [--runs N] [--cli PATH]</c>;
/// without <c>--cli</c>, AnyDef.Cli is built (Release) from the source tree the benchmark was built from.</remarks>
internal static class CliBatchBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var lines = int.Parse(Option(args, "--lines") ?? "20000", CultureInfo.InvariantCulture);
        var runs = int.Parse(Option(args, "--runs") ?? "5", CultureInfo.InvariantCulture);
        var cli = Option(args, "--cli") is { } given ? Path.GetFullPath(given) : await BuildCliAsync();
        var directory = Directory.CreateTempSubdirectory("anydef-bench-cli-").FullName;
        try
        {
            var code = Path.Combine(directory, "add.py");
            await File.WriteAllTextAsync(code, Functions.Add);
            var one = Path.Combine(directory, "one.jsonl");
            var many = Path.Combine(directory, "many.jsonl");
            await File.WriteAllTextAsync(one, "[0, 1]\n");
            await File.WriteAllLinesAsync(many, Enumerable.Range(0, lines).Select(i => $"[{i}, 1]"));

            await RunCliAsync(cli, code, one, 1); // the first start reads everything from disk
            var (oneMs, manyMs) = (new List<double>(), new List<double>());
            for (var i = 0; i < runs; i++)
            {
                oneMs.Add(await RunCliAsync(cli, code, one, 1));
                manyMs.Add(await RunCliAsync(cli, code, many, lines));
            }

            var perExtraLine = (Median(manyMs) - Median(oneMs)) * 1000 / (lines - 1);
            var (map, stream) = await InProcessAsync(lines);
            Console.WriteLine(FormattableString.Invariant($"anydef exec --batch, add, median of {runs} runs each (load average {LoadAverage()})"));
            Console.WriteLine();
            Console.WriteLine("| measure | µs | ratio to MapAsync per input |");
            Console.WriteLine("| --- | ---: | ---: |");
            Console.WriteLine(FormattableString.Invariant($"| exec --batch, 1 line, whole run | {Median(oneMs) * 1000:N0} | |"));
            Console.WriteLine(FormattableString.Invariant($"| exec --batch, {lines:N0} lines, whole run | {Median(manyMs) * 1000:N0} | |"));
            Console.WriteLine(FormattableString.Invariant($"| exec --batch, per extra line | {perExtraLine:0.00} | {perExtraLine / map:0.00}× |"));
            Console.WriteLine(FormattableString.Invariant($"| AnyDefFunction.MapAsync, 1,000 inputs, per input (this process) | {map:0.00} | 1× |"));
            Console.WriteLine(FormattableString.Invariant($"| PythonSandbox.StreamBatchAsync, {lines:N0} inputs, per input (this process) | {stream:0.00} | {stream / map:0.00}× |"));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    // Wall milliseconds of one run, from the start of the process to its exit, its output read and its lines counted.
    private static async Task<double> RunCliAsync(string cli, string code, string batch, int lines)
    {
        var start = cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? new ProcessStartInfo("dotnet") { ArgumentList = { cli } } : new ProcessStartInfo(cli);
        foreach (var a in (string[])["exec", "--code", code, "--function", "add", "--batch", batch]) start.ArgumentList.Add(a);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"'{cli}' did not start");
        var error = process.StandardError.ReadToEndAsync();
        var got = 0;
        while (await process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (!line.Contains("\"ok\":true", StringComparison.Ordinal)) throw new InvalidOperationException($"anydef exec --batch answered '{line}'");
            got++;
        }

        await process.WaitForExitAsync();
        var elapsed = watch.Elapsed.TotalMilliseconds;
        if (process.ExitCode != 0 || got != lines)
        {
            throw new InvalidOperationException($"anydef exec --batch exited with {process.ExitCode} after {got} of {lines} lines: {await error}");
        }

        return elapsed;
    }

    // Per input, median of several timed rounds after a warm-up: MapAsync over 1,000 inputs, the stream over the file's.
    private static async Task<(double Map, double Stream)> InProcessAsync(int lines)
    {
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0 });
        var (function, store) = await Functions.DeclaredAsync("add", sandbox);
        try
        {
            var pairs = Functions.BatchPairs();
            var arguments = Enumerable.Range(0, lines).Select(i => $"[{i}, 1]").ToList();
            async Task<double> Stream()
            {
                var watch = Stopwatch.StartNew();
                await foreach (var r in sandbox.StreamBatchAsync(Functions.Add, "add", arguments.ToAsyncEnumerable()))
                {
                    if (r.Error is { } error) throw error;
                }

                return watch.Elapsed.TotalMicroseconds / lines;
            }

            async Task<double> Map()
            {
                var watch = Stopwatch.StartNew();
                await function.MapAsync(pairs);
                return watch.Elapsed.TotalMicroseconds / pairs.Count;
            }

            for (var i = 0; i < 20; i++) await Map();
            await Stream();
            var maps = new List<double>();
            for (var i = 0; i < 21; i++) maps.Add(await Map());
            var streams = new List<double>();
            for (var i = 0; i < 5; i++) streams.Add(await Stream());
            return (Median(maps), Median(streams));
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    // The command as this source tree builds it: the benchmark's own build sits below the tree's root.
    private static async Task<string> BuildCliAsync()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "AnyDef.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("The source tree (AnyDef.sln) was not found above the benchmark; give the command with --cli PATH.");
        var project = Path.Combine(root.FullName, "AnyDef.Cli", "AnyDef.Cli.csproj");
        var output = Path.Combine(root.FullName, "AnyDef.Cli", "bin", "Release", "bench");
        var build = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true };
        foreach (var a in (string[])["build", project, "-c", "Release", "-v", "q", "-nologo", "-o", output]) build.ArgumentList.Add(a);
        using var process = Process.Start(build) ?? throw new InvalidOperationException("dotnet did not start");
        var log = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"Building AnyDef.Cli failed:\n{log}");
        var apphost = Path.Combine(output, OperatingSystem.IsWindows() ? "AnyDef.Cli.exe" : "AnyDef.Cli");
        return File.Exists(apphost) ? apphost : Path.Combine(output, "AnyDef.Cli.dll");
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
