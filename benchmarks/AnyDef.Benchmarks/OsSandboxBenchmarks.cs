using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// What the operating-system layer (bubblewrap) adds to a process start: the first call of a new function with no
/// spare, with and without the layer, side by side. Without bwrap on the machine both rows measure the same thing.
/// </summary>
[InvocationCount(1)]
public class OsSandboxBenchmarks
{
    private PythonSandbox _plain = null!;
    private PythonSandbox _walled = null!;
    private int _fresh;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _plain = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, MaxProcesses = 2, UseOsSandbox = false });
        _walled = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, MaxProcesses = 2, UseOsSandbox = true });
        await _plain.WarmUpAsync();
        await _walled.WarmUpAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _plain.DisposeAsync();
        await _walled.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "process start + first call, Deno permissions only")]
    public async Task<string> WithoutOsLayer() =>
        (await _plain.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\n" + Functions.Add, "add", "[1, 2]")).ResultJson;

    [Benchmark(Description = "process start + first call, inside bubblewrap")]
    public async Task<string> WithOsLayer() =>
        (await _walled.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\n" + Functions.Add, "add", "[1, 2]")).ResultJson;
}
