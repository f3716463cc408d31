using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --filter '*'            full run
// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --filter '*' --short    a few minutes, for every change
// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --memory            memory of a function's process
// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --filter '*BridgeBaseline*' --short
//     the bridge against the in-process call: single, pipelined, and a batch through each layer (internal, RunBatchAsync, MapAsync, StreamAsync)
// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --profile           where one warm call's time goes, then the CPU per call on
//     each side (.NET; the host's main thread, Python worker, other threads), context switches and read/write calls,
//     sequential, 16 tasks pipelining and a stream ([--calls N], default 20,000; --cpu for that table alone)
if (args.Contains("--profile"))
{
    await AnyDefNet.Benchmarks.ProfileBenchmark.RunAsync(args);
    return;
}

// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --cli-batch         anydef exec --batch per extra line, beside MapAsync per input
//     ([--lines N], default 20,000; [--runs N], default 5; [--cli PATH], default AnyDef.Cli built from this tree)
if (args.Contains("--cli-batch"))
{
    await AnyDefNet.Benchmarks.CliBatchBenchmark.RunAsync(args);
    return;
}

// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --flat-memory       host memory over 200,000 calls
if (args.Contains("--flat-memory"))
{
    await AnyDefNet.Benchmarks.FlatMemoryBenchmark.RunAsync(args);
    return;
}

// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --package-check     what the package hash check costs a first call
if (args.Contains("--package-check"))
{
    await AnyDefNet.Benchmarks.PackageCheckBenchmark.RunAsync(args);
    return;
}

// dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --agents              run_python against a plain call; an idle session's memory
if (args.Contains("--agents"))
{
    await AnyDefNet.Benchmarks.AgentBenchmark.RunAsync(args);
    return;
}

if (args.Contains("--memory"))
{
    await AnyDefNet.Benchmarks.MemoryBenchmark.RunAsync(args);
    return;
}

var isShort = args.Contains("--short");
var job = isShort
    ? Job.Default.WithWarmupCount(1).WithIterationCount(3).WithLaunchCount(1)
    : Job.Default.WithWarmupCount(2).WithIterationCount(10).WithLaunchCount(1);
var config = DefaultConfig.Instance
    .AddJob(job.WithId(isShort ? "short" : "full"))
    .AddColumn(StatisticColumn.P50, StatisticColumn.P95, StatisticColumn.OperationsPerSecond)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(AnyDefNet.Benchmarks.WarmCallBenchmarks).Assembly)
    .Run([.. args.Where(a => a != "--short")], config);
