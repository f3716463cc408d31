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

    /// <summary>The same inputs as JSON arrays of positional arguments, as <see cref="PythonSandbox.RunBatchAsync"/> takes them.</summary>
    public static List<string> BatchArguments() => [.. Enumerable.Range(0, BatchSize).Select(i => $"[{i}, 1]")];

    /// <summary>The same inputs as a declared function takes them.</summary>
    public static List<Pair> BatchPairs() => [.. Enumerable.Range(0, BatchSize).Select(i => new Pair(i, 1))];

    /// <summary>The arguments of both measured functions.</summary>
    public sealed record Pair(int A, int B);

    /// <summary>
    /// The named function declared as a user declares it, its code (the same text the sandbox rows run) read from a
    /// store in frozen mode, so no model is asked; it runs in <paramref name="sandbox"/>. The caller deletes the store.
    /// </summary>
    public static async Task<(AnyDefFunction<Pair, int> Function, string StoreDirectory)> DeclaredAsync(string name, PythonSandbox sandbox)
    {
        var store = Directory.CreateTempSubdirectory("anydef-bench-store-").FullName;
        var options = new AnyDefOptions { StoreDirectory = store, Frozen = true, AllowUnreviewed = true, SandboxInstance = sandbox };
        var function = AnyDef.Function<Pair, int>(name, name == "add" ? "Add two numbers." : "Count the primes to 10,000, plus a and b.", options);
        await new DirectoryCodeStore(store).WriteAsync(function.Spec, Code(name), "benchmark");
        var code = await function.GetCodeAsync();
        return code.Code.Trim() == Code(name).Trim() ? (function, store) : throw new InvalidOperationException($"the store gave other code for '{name}'");
    }
}
