using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Cold paths, one invocation per iteration: the original's design (a new Deno + Pyodide for every call, no
/// snapshot) as the baseline, and the first call of a new function with and without a warm spare.
/// </summary>
[InvocationCount(1)]
public class ColdStartBenchmarks
{
    private PythonSandbox _withSpare = null!;
    private PythonSandbox _withoutSpare = null!;
    private int _fresh;

    [Params("add", "sieve")]
    public string Function { get; set; } = "add";

    private string Code => Functions.Code(Function);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _withoutSpare = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, MaxProcesses = 2 });
        await _withoutSpare.WarmUpAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _withoutSpare.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "new process per call (original design)")]
    public async Task<string> PerCallProcess()
    {
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, UseSnapshot = false });
        return (await sandbox.RunAsync(Code, Function, "[1, 2]")).ResultJson;
    }

    // A fresh sandbox per iteration with its spare ready, made and ended outside the measurement: spares take only
    // free slots, so in one long-lived sandbox the functions of earlier iterations would fill the pool and leave
    // later iterations without a spare.
    [IterationSetup(Target = nameof(FirstCallWithSpare))]
    public void ReadySpare()
    {
        _withSpare = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 1, MaxProcesses = 2 });
        _withSpare.WarmUpAsync().GetAwaiter().GetResult();
    }

    [IterationCleanup(Target = nameof(FirstCallWithSpare))]
    public void EndSpare() => _withSpare.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "first call of a new function, warm spare")]
    public async Task<string> FirstCallWithSpare() =>
        (await _withSpare.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\n" + Code, Function, "[1, 2]")).ResultJson;

    [Benchmark(Description = "first call of a new function, no spare (snapshot)")]
    public async Task<string> FirstCallWithoutSpare() =>
        (await _withoutSpare.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\n" + Code, Function, "[1, 2]")).ResultJson;
}
