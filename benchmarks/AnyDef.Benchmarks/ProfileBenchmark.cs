using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Where the time of one warm call goes, stage by stage (median over many calls), from the bridge's internal timing
/// mode. Each side measures its own durations; a hop is what is left of a round trip after the far side's time.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --profile [--calls N] [--host-dir DIR] [--sync | --taskrun]</c>, or
/// <c>--profile --compare DIR_A,DIR_B [--rounds N]</c> for two versions of the host scripts side by side. After the stages,
/// the CPU time each side spends per call (<c>--profile --cpu</c> for that table alone).</remarks>
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
        if (!args.Contains("--cpu")) await StagesAsync(args, calls, hostDir);
        await CpuPerSideAsync(calls, hostDir);
    }

    private static async Task StagesAsync(string[] args, int calls, string? hostDir)
    {
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

        Console.WriteLine();
        BridgeProfile.Enabled = false;
    }

    /// <summary>
    /// What each side of the bridge spends per call of <c>add</c>, from the kernel's accounting before and after each case
    /// (no timing mode on): the .NET process, and the hosts split by thread (main, Python worker, the rest), with the
    /// context switches and the read/write system calls of each side. The worker thread is known by its name, taken from
    /// the thread that burns the CPU of a pure-Python busy call.
    /// </summary>
    private static async Task CpuPerSideAsync(int calls, string? hostDir)
    {
        if (!SideCpu.Available)
        {
            Console.WriteLine("The CPU per side needs Linux's /proc; skipped.");
            return;
        }

        var options = SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = hostDir is null ? null : Path.GetFullPath(hostDir) };
        var workerName = await WorkerThreadNameAsync(options);
        await using var sandbox = new PythonSandbox(options);
        var (function, store) = await Functions.DeclaredAsync("add", sandbox);
        try
        {
            var pairs = Enumerable.Range(0, calls).Select(i => new Functions.Pair(i, 1)).ToList();
            async Task Sequential(int n)
            {
                for (var i = 0; i < n; i++) await sandbox.RunAsync(Code, "add", "[1, 2]");
            }

            const int perRound = Functions.PipelinedTasks * Functions.CallsPerTask;
            async Task Pipelined(int n)
            {
                for (var i = 0; i < Math.Max(1, n / perRound); i++) await Functions.PipelinedAsync(sandbox, "add");
            }

            async Task Stream(int n)
            {
                await foreach (var outcome in function.StreamAsync(pairs.Take(n).ToAsyncEnumerable()))
                {
                    if (!outcome.Succeeded) throw outcome.Error!;
                }
            }

            (string Case, Func<int, Task> Run, int Calls)[] cases =
            [
                ("sequential awaited calls", Sequential, calls),
                ("16 tasks pipelining", Pipelined, Math.Max(1, calls / perRound) * perRound),
                ($"AnyDefFunction.StreamAsync, a stream of {calls:N0} inputs", Stream, calls),
            ];
            Console.WriteLine(FormattableString.Invariant($"CPU per call of add on each side (worker thread '{workerName}'; load average {LoadAverage()})"));
            Console.WriteLine();
            Console.WriteLine("| case | calls | wall µs | .NET CPU µs | host main µs | worker µs | other host µs | context switches .NET, voluntary+involuntary | host | read+write(2) calls .NET | host |");
            Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            var lines = new List<string>();
            foreach (var (name, run, n) in cases)
            {
                // One whole run first, so that the pool has grown to what the case asks of it before it is measured, and
                // the processes that run started are serving.
                await run(n);
                for (var wait = Stopwatch.StartNew(); sandbox.ProcessIdsOf(Code, "add").Count < sandbox.LiveProcesses && wait.Elapsed < TimeSpan.FromSeconds(60);)
                {
                    await Task.Delay(100);
                }

                var before = sandbox.ProcessIdsOf(Code, "add");
                var (self, hosts) = (SideCpu.OfSelf(), SideCpu.OfHosts(before, workerName));
                var watch = Stopwatch.StartNew();
                await run(n);
                var wall = watch.Elapsed.TotalMicroseconds / n;
                var after = sandbox.ProcessIdsOf(Code, "add");
                // A process started during the run counts from its start (its start's CPU time too); one that ended is missing.
                if (!after.Order().SequenceEqual(before.Order())) lines.Add($"The hosts changed during '{name}': {before.Count} before, {after.Count} after.");
                var (s, h) = (SideCpu.OfSelf() - self, SideCpu.OfHosts(after, workerName) - hosts);
                double Per(double total) => total / n;
                Console.WriteLine(FormattableString.Invariant(
                    $"| {name} ({after.Count} host{(after.Count == 1 ? "" : "s")}) | {n} | {wall:0.0} | {Per(s.TotalMs * 1000):0.0} | {Per(h.MainMs * 1000):0.0} | {Per(h.WorkerMs * 1000):0.0} | {Per(h.OtherMs * 1000):0.0} | {Per(s.Voluntary):0.00}+{Per(s.Involuntary):0.00} | {Per(h.Voluntary):0.00}+{Per(h.Involuntary):0.00} | {Per(s.ReadCalls):0.00}+{Per(s.WriteCalls):0.00} | {Per(h.ReadCalls):0.00}+{Per(h.WriteCalls):0.00} |"));
            }

            Console.WriteLine();
            Console.WriteLine("CPU from the kernel's accounting (10 ms ticks, so a figure is ±10 ms over the calls of its row); the host's threads " +
                "that ended during a run count as other; socket recv/send calls are not in the read+write(2) counts.");
            foreach (var line in lines) Console.WriteLine(line);
        }
        finally
        {
            Directory.Delete(store, recursive: true);
        }
    }

    // The host's threads are named by the runtime; the worker's name is whichever thread runs Python.
    private static async Task<string> WorkerThreadNameAsync(SandboxOptions options)
    {
        await using var sandbox = new PythonSandbox(options);
        const string spin = "import time\n\ndef spin(ms):\n    end = time.perf_counter() + ms / 1000\n    n = 0\n    while time.perf_counter() < end:\n        n += 1\n    return n\n";
        await sandbox.RunAsync(spin, "spin", "[1]");
        var pid = sandbox.ProcessIdOf(spin, "spin")!.Value;
        var before = SideCpu.Threads(pid);
        await sandbox.RunAsync(spin, "spin", "[400]");
        var busiest = SideCpu.Threads(pid)
            .Where(t => t.Key.Pid != t.Key.Tid)
            .MaxBy(t => t.Value.Ticks - (before.TryGetValue(t.Key, out var b) ? b.Ticks : 0));
        return busiest.Value.Name;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";

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
