using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>Pipelined calls of one function (16 tasks) served by one process against two, side by side.</summary>
public class ReplicaBenchmarks
{
    private PythonSandbox _one = null!;
    private PythonSandbox _two = null!;

    [Params("add", "sieve")]
    public string Function { get; set; } = "add";

    private string Code => Functions.Code(Function);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _one = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, MaxProcessesPerFunction = 1 });
        _two = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, MaxProcessesPerFunction = 2 });
        await PipelineAsync(_one, 1);
        // The second process starts when calls queue; measure only once it serves.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (_two.ProcessIdsOf(Code, Function).Count < 2)
        {
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("The second process of the function did not start.");
            await PipelineAsync(_two, 1);
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _one.DisposeAsync();
        await _two.DisposeAsync();
    }

    [Benchmark(Baseline = true, Description = "pipelined, 16 tasks, 1 process (per call)", OperationsPerInvoke = 16 * 64)]
    public Task OneProcess() => PipelineAsync(_one, 64);

    [Benchmark(Description = "pipelined, 16 tasks, 2 processes (per call)", OperationsPerInvoke = 16 * 64)]
    public Task TwoProcesses() => PipelineAsync(_two, 64);

    private Task PipelineAsync(PythonSandbox sandbox, int callsPerTask) => Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
    {
        for (var i = 0; i < callsPerTask; i++) await sandbox.RunAsync(Code, Function, "[1, 2]");
    }));
}
