using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Where the time of one warm call goes, stage by stage (median over many calls), from the bridge's internal timing
/// mode. Each side measures its own durations; a hop is what is left of a round trip after the far side's time.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --profile [--calls N] [--host-dir DIR] [--sync | --taskrun]</c>, or
/// <c>--profile --compare DIR_A,DIR_B [--rounds N]</c> for two versions of the host scripts side by side.</remarks>
internal static class ProfileBenchmark
{
    private const string Code = "def add(a, b):\n    return a + b\n";

    public static async Task RunAsync(string[] args)
    {
        if (Option(args, "--compare") is { } compare)
        {
            await CompareAsync(compare.Split(','), int.Parse(Option(args, "--rounds") ?? "5", CultureInfo.InvariantCulture));
            return;
        }


        var calls = int.Parse(Option(args, "--calls") ?? "20000", CultureInfo.InvariantCulture);
        var hostDir = Option(args, "--host-dir");
        BridgeProfile.Enabled = true;
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = hostDir is null ? null : Path.GetFullPath(hostDir) });
        for (var i = 0; i < 3_000; i++) await sandbox.RunAsync(Code, "add", "[1, 2]");

        // --sync: each call made as the synchronous facades make it (the caller's thread blocks until the result).
        var blocking = args.Contains("--sync");
        var samples = new List<BridgeProfile.Sample>(calls);
        await Task.Run(async () =>
        {
            for (var i = 0; i < calls; i++)
            {
                var sample = new BridgeProfile.Sample { Start = Stopwatch.GetTimestamp() };
                BridgeProfile.Current.Value = sample;
                if (args.Contains("--taskrun")) Task.Run(() => sandbox.RunAsync(Code, "add", "[1, 2]")).GetAwaiter().GetResult(); // the facades before 0.2
                else if (blocking) AnyDefNet.Internal.Blocking.Wait(() => sandbox.RunAsync(Code, "add", "[1, 2]"));
                else await sandbox.RunAsync(Code, "add", "[1, 2]");
                sample.Resumed = Stopwatch.GetTimestamp();
                BridgeProfile.Current.Value = null;
                if (sample.Host is { Length: >= 7 } && sample.Written > 0 && sample.Read > 0) samples.Add(sample);
            }
        });

        static double Us(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;
        (string Stage, Func<BridgeProfile.Sample, double> Of)[] stages =
        [
            (".NET: validate, key, serialize, socket write", s => Us(s.Start, s.Written)),
            ("hops .NET -> host -> .NET (socket both ways, .NET read loop)", s => Us(s.Written, s.Read) - s.Host![1]),
            ("host: read, parse, forward to the worker", s => s.Host![0]),
            ("hops host -> worker -> host", s => s.Host![1] - s.Host[0] - s.Host[5] - s.Host[6]),
            ("worker: receive until Python", s => s.Host![2]),
            ("worker: the Python call", s => s.Host![3]),
            ("worker: after Python until the reply is posted", s => s.Host![4]),
            ("host: reply message until the socket write", s => s.Host![5]),
            (".NET: reply read until the caller resumes", s => Us(s.Read, s.Resumed)),
            ("total (median of whole calls)", s => Us(s.Start, s.Resumed)),
        ];
        Console.WriteLine($"| stage of one warm call ({samples.Count} calls of add, sequential, {(blocking ? "caller blocks" : "awaited")}) | median µs |");
        Console.WriteLine("| --- | ---: |");
        foreach (var (stage, of) in stages)
        {
            var values = samples.Select(of).Order().ToList();
            Console.WriteLine(FormattableString.Invariant($"| {stage} | {values[values.Count / 2]:0.0} |"));
        }
    }

    /// <summary>
    /// Host scripts side by side (<c>--compare DIR_A,DIR_B</c>), in interleaved rounds so that both see the same load: a
    /// warm call awaited in a loop and the same call waited on by a blocked thread (as BenchmarkDotNet's engine waits on an
    /// asynchronous benchmark), mean and median; and 16 pipelining tasks, calls per second. Medians over the rounds.
    /// </summary>
    private static async Task CompareAsync(string[] dirs, int rounds)
    {
        var sandboxes = new List<PythonSandbox>();
        foreach (var dir in dirs)
        {
            var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = Path.GetFullPath(dir) });
            for (var i = 0; i < 3_000; i++) await sandbox.RunAsync(Code, "add", "[1, 2]");
            sandboxes.Add(sandbox);
        }

        var figures = dirs.Select(_ => new List<double[]>()).ToList();
        for (var round = 0; round < rounds; round++)
        {
            for (var d = 0; d < dirs.Length; d++)
            {
                var sandbox = sandboxes[d];
                const int calls = 2_000;
                var times = new double[calls];
                var seqPid = sandbox.ProcessIdOf(Code, "add")!.Value;
                var seqBefore = HostCpu(seqPid);
                for (var i = 0; i < calls; i++)
                {
                    var t = Stopwatch.GetTimestamp();
                    await sandbox.RunAsync(Code, "add", "[1, 2]");
                    times[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                }

                var seqHost = (HostCpu(seqPid) - seqBefore).TotalMicroseconds / calls;
                var blocked = new double[calls];
                await Task.Run(() =>
                {
                    for (var i = 0; i < calls; i++)
                    {
                        var t = Stopwatch.GetTimestamp();
                        sandbox.RunAsync(Code, "add", "[1, 2]").GetAwaiter().GetResult();
                        blocked[i] = Stopwatch.GetElapsedTime(t).TotalMicroseconds;
                    }
                });

                var pid = sandbox.ProcessIdOf(Code, "add")!.Value;
                var (ownBefore, hostBefore) = (Process.GetCurrentProcess().TotalProcessorTime, HostCpu(pid));
                var watch = Stopwatch.StartNew();
                for (var i = 0; i < 4; i++) await Functions.PipelinedAsync(sandbox, "add");
                const int pipelined = 4 * Functions.PipelinedTasks * Functions.CallsPerTask;
                var perSecond = pipelined / watch.Elapsed.TotalSeconds;
                var own = (Process.GetCurrentProcess().TotalProcessorTime - ownBefore).TotalMicroseconds / pipelined;
                var host = (HostCpu(pid) - hostBefore).TotalMicroseconds / pipelined;
                figures[d].Add([times.Average(), Median(times), blocked.Average(), Median(blocked), perSecond, own, host, seqHost]);
            }
        }

        Console.WriteLine("| host scripts | awaited mean µs | awaited p50 µs | blocked-wait mean µs | blocked-wait p50 µs | pipelined 16 tasks, calls/s | CPU µs per pipelined call, .NET | host | host CPU µs per awaited call |");
        Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        for (var d = 0; d < dirs.Length; d++)
        {
            var f = figures[d];
            Console.WriteLine(FormattableString.Invariant(
                $"| {dirs[d]} | {Median(f.Select(x => x[0])):0.0} | {Median(f.Select(x => x[1])):0.0} | {Median(f.Select(x => x[2])):0.0} | {Median(f.Select(x => x[3])):0.0} | {Median(f.Select(x => x[4])):0} | {Median(f.Select(x => x[5])):0.0} | {Median(f.Select(x => x[6])):0.0} | {Median(f.Select(x => x[7])):0.0} |"));
        }

        foreach (var sandbox in sandboxes) await sandbox.DisposeAsync();
    }

    // The CPU time of a process and its descendants (a host may run under a wrapper), all threads, user and system,
    // from the kernel's accounting.
    private static TimeSpan HostCpu(int pid)
    {
        long ticks = 0;
        var todo = new Stack<int>([pid]);
        while (todo.Count > 0)
        {
            var current = todo.Pop();
            var fields = File.ReadAllText($"/proc/{current}/stat").Split(") ")[1].Split(' ');
            ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            foreach (var task in Directory.EnumerateDirectories($"/proc/{current}/task"))
            {
                foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    todo.Push(int.Parse(child, CultureInfo.InvariantCulture));
                }
            }
        }

        return TimeSpan.FromSeconds(ticks / 100.0);
    }

    private static double Median(IEnumerable<double> values)
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
