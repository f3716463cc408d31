using System.Globalization;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Memory must not grow per call: the resident size of one function's host process, read from outside
/// (<c>/proc/PID/status</c>), after a warm-up and then every 20,000 calls up to 200,000 (16 tasks pipelining).
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --flat-memory [--calls N] [--host-dir DIR]</c>.</remarks>
internal static class FlatMemoryBenchmark
{
    private const string Code = "def add(a, b):\n    return a + b\n";

    public static async Task RunAsync(string[] args)
    {
        var calls = int.Parse(Option(args, "--calls") ?? "200000", CultureInfo.InvariantCulture);
        var hostDir = Option(args, "--host-dir");
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = hostDir is null ? null : Path.GetFullPath(hostDir) });
        await Run(sandbox, 20_000);
        var pid = sandbox.ProcessIdOf(Code, "add")!.Value;
        var warm = Rss(pid);
        Console.WriteLine("| calls after a 20,000-call warm-up | host resident MB | growth MB |");
        Console.WriteLine("| ---: | ---: | ---: |");
        Console.WriteLine($"| 0 | {warm} | 0 |");
        var peak = warm;
        for (var done = 0; done < calls;)
        {
            var step = Math.Min(20_000, calls - done);
            await Run(sandbox, step);
            done += step;
            var rss = Rss(pid);
            peak = Math.Max(peak, rss);
            Console.WriteLine($"| {done:N0} | {rss} | {rss - warm:+0;-0;0} |");
        }

        if (sandbox.ProcessIdOf(Code, "add") != pid) Console.WriteLine("(the process was replaced during the run: the figures are not comparable)");
        Console.WriteLine($"peak growth over the warm process: {peak - warm} MB");
    }

    private static Task Run(PythonSandbox sandbox, int calls) => Task.WhenAll(Enumerable.Range(0, 16).Select(async t =>
    {
        for (var i = t; i < calls; i += 16) await sandbox.RunAsync(Code, "add", $"[{i}, 2]");
    }));

    // The process and its descendants (under the operating-system wall the host's id is the wrapper's).
    private static long Rss(int pid) => Tree(pid).Sum(p =>
        File.ReadLines($"/proc/{p}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)) is { } line
            ? long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture)
            : 0) / 1024;

    private static IEnumerable<int> Tree(int pid)
    {
        yield return pid;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            var children = File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var child in children.SelectMany(c => Tree(int.Parse(c, CultureInfo.InvariantCulture)))) yield return child;
        }
    }

    private static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
