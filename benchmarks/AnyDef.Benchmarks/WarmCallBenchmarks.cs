using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>Calls of a stored function in a warm process: one at a time, pipelined from 16 tasks, and batched.</summary>
public class WarmCallBenchmarks
{
    private PythonSandbox _warm = null!;
    private List<string> _batch = null!;

    [Params("add", "sieve")]
    public string Function { get; set; } = "add";

    private string Code => Functions.Code(Function);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _warm = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0 });
        await _warm.RunAsync(Code, Function, "[1, 2]");
        _batch = Functions.BatchInputs();
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _warm.DisposeAsync();

    [Benchmark(Description = "warm call")]
    public async Task<string> WarmCall() => (await _warm.RunAsync(Code, Function, "[1, 2]")).ResultJson;

    [Benchmark(Description = "pipelined, 16 tasks (per call)", OperationsPerInvoke = Functions.PipelinedTasks * Functions.CallsPerTask)]
    public Task Pipelined() => Functions.PipelinedAsync(_warm, Function);

    [Benchmark(Description = "batch of 1,000 (per input)", OperationsPerInvoke = Functions.BatchSize)]
    public async Task Batch() => await _warm.CallBatchAsync(Code, Function, _batch, TimeSpan.FromSeconds(30), CancellationToken.None);
}
