using System.Diagnostics;
using System.Net.Sockets;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;
using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// A warm call through the bridge against its floor, measured side by side: the same function called by Pyodide
/// inside one Deno process (JSON in and out, no socket, no worker). The ratio column is the bridge's cost. The same
/// run measures 16 tasks pipelining calls and a batch, per call, so that every figure has its baseline beside it,
/// and the chain of threads a call crosses with no work at all (8 bytes through the socket, the host's main thread and
/// a worker woken with <c>Atomics</c>, and back): the floor of any bridge of this shape on the machine. The batch is
/// measured three ways beside the internal call: through <see cref="PythonSandbox.RunBatchAsync"/> (JSON in and out), and
/// through a declared function's <see cref="AnyDefFunction{TArgs,TResult}.MapAsync"/> and
/// <see cref="AnyDefFunction{TArgs,TResult}.StreamAsync"/> (typed values in and out, the code read from a store), so
/// each layer a user's batch crosses has its own row.
/// </summary>
public class BridgeBaselineBenchmarks
{
    private const int InProcessCalls = 2_000;
    private const int AwaitedCalls = 100;
    private PythonSandbox _sandbox = null!;
    private Process _inProcess = null!;
    private List<string> _batch = null!;
    private List<string> _batchJson = null!;
    private List<Functions.Pair> _pairs = null!;
    private AnyDefFunction<Functions.Pair, int> _function = null!;
    private string _storeDirectory = null!;
    private Process _bareChain = null!;
    private Socket _bare = null!;
    private string _bareDirectory = null!;
    private readonly byte[] _frame = new byte[8];

    /// <summary>The functions measured: <c>ANYDEF_BENCH_FUNCTIONS</c> (comma-separated) or both.</summary>
    public static IEnumerable<string> Functions_ =>
        (Environment.GetEnvironmentVariable("ANYDEF_BENCH_FUNCTIONS") ?? "add,sieve").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    [ParamsSource(nameof(Functions_))]
    public string Function { get; set; } = "add";

    private string Code => Functions.Code(Function);

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0 });
        for (var i = 0; i < 3_000; i++) await _sandbox.RunAsync(Code, Function, "[1, 2]");
        _batch = Functions.BatchInputs();
        _batchJson = Functions.BatchArguments();
        _pairs = Functions.BatchPairs();
        (_function, _storeDirectory) = await Functions.DeclaredAsync(Function, _sandbox);
        await _function.MapAsync(_pairs);

        var runtime = await RuntimeLocation.ResolveAsync(SandboxOptions.Default, CancellationToken.None);
        var script = Path.Combine(AppContext.BaseDirectory, "inprocess.ts");
        var start = new ProcessStartInfo(runtime.DenoPath)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["run", "--no-prompt", "--no-config", "--no-lock", "--no-remote", "--no-npm", "--cached-only",
                     $"--allow-read={runtime.PyodideDirectory},{script}", script, runtime.PyodideDirectory])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DENO_DIR"] = Path.Combine(runtime.CacheDirectory, "deno-dir");
        _inProcess = Process.Start(start) ?? throw new InvalidOperationException("deno did not start");
        await _inProcess.StandardInput.WriteLineAsync(JsonSerializer.Serialize(new { code = Code, name = Function, args = "[[1, 2], {}]" }));
        RunInProcess(3_000);
        await StartBareChainAsync(runtime);
    }

    private async Task StartBareChainAsync(RuntimeLocation runtime)
    {
        _bareDirectory = Directory.CreateTempSubdirectory("anydef-bench-").FullName;
        var socketPath = Path.Combine(_bareDirectory, "bare.sock");
        var script = Path.Combine(AppContext.BaseDirectory, "barechain.ts");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(socketPath));
        listener.Listen(1);
        var start = new ProcessStartInfo(runtime.DenoPath) { UseShellExecute = false, RedirectStandardInput = true };
        foreach (var a in (string[])["run", "--no-prompt", "--no-config", "--no-lock", "--no-remote", "--no-npm", "--cached-only",
                     $"--allow-read={socketPath},{script}", $"--allow-write={socketPath}", $"--allow-net=unix:{socketPath}", script, socketPath])
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["DENO_DIR"] = Path.Combine(runtime.CacheDirectory, "deno-dir");
        _bareChain = Process.Start(start) ?? throw new InvalidOperationException("deno did not start");
        // A socket accepted and used only by blocking calls: each reply wakes the waiting thread itself.
        _bare = await Task.Run(listener.Accept).WaitAsync(TimeSpan.FromSeconds(30));
        for (var i = 0; i < 3_000; i++) BareChain();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        _bare.Dispose();
        _bareChain.Kill();
        await _bareChain.WaitForExitAsync();
        Directory.Delete(_bareDirectory, recursive: true);
        _inProcess.Kill();
        await _inProcess.WaitForExitAsync();
        await _sandbox.DisposeAsync();
        Directory.Delete(_storeDirectory, recursive: true);
    }

    [Benchmark(Baseline = true, Description = "in-process Pyodide call (no bridge)", OperationsPerInvoke = InProcessCalls)]
    public void InProcess() => RunInProcess(InProcessCalls);

    [Benchmark(Description = "bare chain: 8 bytes to a worker and back, no Python")]
    public int BareChain()
    {
        BitConverter.TryWriteBytes(_frame, 41);
        _bare.Send(_frame);
        for (var got = 0; got < 8;)
        {
            var n = _bare.Receive(_frame.AsSpan(got));
            if (n == 0) throw new InvalidOperationException("the bare chain ended");
            got += n;
        }

        var reply = BitConverter.ToInt32(_frame);
        return reply == 42 ? reply : throw new InvalidOperationException($"the bare chain answered {reply}");
    }

    [Benchmark(Description = "warm call through the bridge")]
    public async Task<string> WarmCall() => (await _sandbox.RunAsync(Code, Function, "[1, 2]")).ResultJson;

    // BenchmarkDotNet blocks on each invocation of an asynchronous benchmark: one call per invocation pays a thread wake
    // to hand the result to that blocked thread, which a caller that awaits does not. Calls awaited one after another in
    // one invocation are what an awaiting caller sees.
    [Benchmark(Description = "warm call, awaited (100 in a row, per call)", OperationsPerInvoke = AwaitedCalls)]
    public async Task<string> WarmCallsAwaited()
    {
        var last = "";
        for (var i = 0; i < AwaitedCalls; i++) last = (await _sandbox.RunAsync(Code, Function, "[1, 2]")).ResultJson;
        return last;
    }

    [Benchmark(Description = "warm call, caller blocks (the synchronous facades)")]
    public string WarmCallBlocking() => AnyDefNet.Internal.Blocking.Wait(() => _sandbox.RunAsync(Code, Function, "[1, 2]")).ResultJson;

    [Benchmark(Description = "pipelined, 16 tasks (per call)", OperationsPerInvoke = Functions.PipelinedTasks * Functions.CallsPerTask)]
    public Task Pipelined() => Functions.PipelinedAsync(_sandbox, Function);

    [Benchmark(Description = "batch of 1,000 (per input)", OperationsPerInvoke = Functions.BatchSize)]
    public async Task Batch() => await _sandbox.CallBatchAsync(Code, Function, _batch, TimeSpan.FromSeconds(30), CancellationToken.None);

    [Benchmark(Description = "PythonSandbox.RunBatchAsync, 1,000 JSON inputs (per input)", OperationsPerInvoke = Functions.BatchSize)]
    public async Task<int> RunBatch() => (await _sandbox.RunBatchAsync(Code, Function, _batchJson)).Count;

    [Benchmark(Description = "AnyDefFunction.MapAsync, 1,000 inputs (per input)", OperationsPerInvoke = Functions.BatchSize)]
    public async Task<int> Map() => (await _function.MapAsync(_pairs)).Count;

    [Benchmark(Description = "AnyDefFunction.StreamAsync, 1,000 inputs (per input)", OperationsPerInvoke = Functions.BatchSize)]
    public async Task<int> Stream()
    {
        var sum = 0;
        await foreach (var outcome in _function.StreamAsync(_pairs.ToAsyncEnumerable())) sum += outcome.Value;
        return sum;
    }

    private void RunInProcess(int calls)
    {
        _inProcess.StandardInput.WriteLine(calls);
        _inProcess.StandardInput.Flush();
        var line = _inProcess.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("done ", StringComparison.Ordinal)) throw new InvalidOperationException($"in-process runner answered '{line}'");
    }
}
