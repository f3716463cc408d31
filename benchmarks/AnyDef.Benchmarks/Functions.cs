namespace AnyDefNet.Benchmarks;

/// <summary>The measured functions: a trivial one and a heavier one (a prime sieve to 10,000).</summary>
internal static class Functions
{
    public const string Add = "def add(a, b):\n    return a + b\n";

    public const string Sieve = """
        def sieve(a, b):
            n = 10_000
            flags = bytearray([1]) * (n + 1)
            flags[0:2] = b"\x00\x00"
            for p in range(2, int(n ** 0.5) + 1):
                if flags[p]:
                    flags[p * p :: p] = bytearray(len(range(p * p, n + 1, p)))
            return sum(flags) + a + b
        """;

    public static string Code(string name) => name == "add" ? Add : Sieve;

    /// <summary>Calls one function from this many tasks at once, each making <see cref="CallsPerTask"/> calls in turn.</summary>
    public const int PipelinedTasks = 16;

    /// <summary>The calls each pipelining task makes.</summary>
    public const int CallsPerTask = 64;

    /// <summary>The inputs of a measured batch.</summary>
    public const int BatchSize = 1000;

    /// <summary>The warm-call workload shared by the benchmarks: one function called from many tasks at once.</summary>
    public static Task PipelinedAsync(PythonSandbox sandbox, string name) =>
        Task.WhenAll(Enumerable.Range(0, PipelinedTasks).Select(async _ =>
        {
            for (var i = 0; i < CallsPerTask; i++) await sandbox.RunAsync(Code(name), name, "[1, 2]");
        }));

    /// <summary>The packed inputs of a measured batch.</summary>
    public static List<string> BatchInputs() => [.. Enumerable.Range(0, BatchSize).Select(i => PythonSandbox.Pack($"[{i}, 1]", null))];
}
