using System.Globalization;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// The kernel's accounting of one side of the bridge at a moment, read from <c>/proc</c>: CPU time (user and system),
/// context switches and read/write system calls. For a sandbox host the CPU time is split by thread: the host's main
/// thread, its Python worker thread and every other thread (V8's helpers, Deno's, a wrapper process). Subtract two
/// snapshots for what a run cost.
/// </summary>
internal readonly record struct SideCpu(double MainMs, double WorkerMs, double OtherMs, long Voluntary, long Involuntary, long ReadCalls, long WriteCalls)
{
    private static readonly double s_msPerTick = 1000.0 / 100; // USER_HZ is 100 on Linux

    public double TotalMs => MainMs + WorkerMs + OtherMs;

    public static SideCpu operator -(SideCpu a, SideCpu b) => new(a.MainMs - b.MainMs, a.WorkerMs - b.WorkerMs, a.OtherMs - b.OtherMs,
        a.Voluntary - b.Voluntary, a.Involuntary - b.Involuntary, a.ReadCalls - b.ReadCalls, a.WriteCalls - b.WriteCalls);

    public static SideCpu operator +(SideCpu a, SideCpu b) => new(a.MainMs + b.MainMs, a.WorkerMs + b.WorkerMs, a.OtherMs + b.OtherMs,
        a.Voluntary + b.Voluntary, a.Involuntary + b.Involuntary, a.ReadCalls + b.ReadCalls, a.WriteCalls + b.WriteCalls);

    /// <summary>Whether the kernel accounting this reads is there (Linux).</summary>
    public static bool Available => File.Exists("/proc/self/stat");

    /// <summary>This .NET process, all of its threads counted as main.</summary>
    public static SideCpu OfSelf()
    {
        var (read, write) = SystemCalls(Environment.ProcessId);
        var (voluntary, involuntary) = ContextSwitchesOf(Environment.ProcessId);
        return new(Ticks($"/proc/{Environment.ProcessId}/stat") * s_msPerTick, 0, 0, voluntary, involuntary, read, write);
    }

    /// <summary>
    /// Sandbox hosts and every process below them (a host may run under a wrapper): the thread whose id is its process's
    /// is the main thread of a process named like the host; threads named <paramref name="workerName"/> are workers.
    /// </summary>
    public static SideCpu OfHosts(IEnumerable<int> roots, string workerName, string hostName = "deno")
    {
        var total = default(SideCpu);
        var todo = new Stack<int>(roots);
        while (todo.Count > 0)
        {
            var pid = todo.Pop();
            try
            {
                var all = Ticks($"/proc/{pid}/stat");
                long main = 0, worker = 0;
                var isHost = Comm($"/proc/{pid}") == hostName;
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    var tid = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
                    if (isHost && tid == pid) main = Ticks(Path.Combine(task, "stat"));
                    else if (isHost && Comm(task) == workerName) worker += Ticks(Path.Combine(task, "stat"));
                    foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    {
                        todo.Push(int.Parse(child, CultureInfo.InvariantCulture));
                    }
                }

                var (read, write) = SystemCalls(pid);
                var (voluntary, involuntary) = ContextSwitchesOf(pid);
                total += new SideCpu(main * s_msPerTick, worker * s_msPerTick, (all - main - worker) * s_msPerTick, voluntary, involuntary, read, write);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process ended while it was read: what it spent is lost to both snapshots alike.
            }
        }

        return total;
    }

    /// <summary>The CPU time of each thread of a process and of the processes below it, by thread name.</summary>
    public static Dictionary<(int Pid, int Tid), (string Name, long Ticks)> Threads(int root)
    {
        var threads = new Dictionary<(int, int), (string, long)>();
        var todo = new Stack<int>([root]);
        while (todo.Count > 0)
        {
            var pid = todo.Pop();
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                threads[(pid, int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture))] = (Comm(task), Ticks(Path.Combine(task, "stat")));
                foreach (var child in File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    todo.Push(int.Parse(child, CultureInfo.InvariantCulture));
                }
            }
        }

        return threads;
    }

    private static string Comm(string procDirectory) => File.ReadAllText(Path.Combine(procDirectory, "comm")).TrimEnd('\n');

    // utime + stime; for a process's stat they include its threads that have ended.
    private static long Ticks(string statPath)
    {
        var fields = File.ReadAllText(statPath).Split(") ")[^1].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    // Voluntary (the thread waited) and involuntary (it was preempted, or yielded while others could run), summed over
    // the threads alive now.
    private static (long Voluntary, long Involuntary) ContextSwitchesOf(int pid)
    {
        long voluntary = 0, involuntary = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal)) voluntary += long.Parse(line[24..].Trim(), CultureInfo.InvariantCulture);
                    else if (line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal)) involuntary += long.Parse(line[27..].Trim(), CultureInfo.InvariantCulture);
                }
            }
            catch (IOException)
            {
                // A thread that ended between the listing and the read.
            }
        }

        return (voluntary, involuntary);
    }

    // syscr and syscw: the read(2)- and write(2)-family calls (read, readv, pread, write, writev, ...); a socket's
    // recv and send family are not counted there. Unreadable (another user namespace, a hardened kernel) counts as
    // none, on both snapshots.
    private static (long Read, long Write) SystemCalls(int pid)
    {
        try
        {
            long read = 0, write = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                if (line.StartsWith("syscr:", StringComparison.Ordinal)) read = long.Parse(line[6..].Trim(), CultureInfo.InvariantCulture);
                else if (line.StartsWith("syscw:", StringComparison.Ordinal)) write = long.Parse(line[6..].Trim(), CultureInfo.InvariantCulture);
            }

            return (read, write);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (0, 0);
        }
    }
}
