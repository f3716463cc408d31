using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Where the time of one warm call goes, stage by stage (median over many calls), from the bridge's internal timing
/// mode. Each side measures its own durations; a hop is what is left of a round trip after the far side's time.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --profile [--calls N] [--host-dir DIR]</c>.</remarks>
internal static class ProfileBenchmark
{
    private const string Code = "def add(a, b):\n    return a + b\n";

    public static async Task RunAsync(string[] args)
    {
        var calls = int.Parse(Option(args, "--calls") ?? "20000", CultureInfo.InvariantCulture);
        var hostDir = Option(args, "--host-dir");
        BridgeProfile.Enabled = true;
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = hostDir is null ? null : Path.GetFullPath(hostDir) });
        for (var i = 0; i < 3_000; i++) await sandbox.RunAsync(Code, "add", "[1, 2]");

        var samples = new List<BridgeProfile.Sample>(calls);
        for (var i = 0; i < calls; i++)
        {
            var sample = new BridgeProfile.Sample { Start = Stopwatch.GetTimestamp() };
            BridgeProfile.Current.Value = sample;
            await sandbox.RunAsync(Code, "add", "[1, 2]");
            sample.Resumed = Stopwatch.GetTimestamp();
            BridgeProfile.Current.Value = null;
            if (sample.Host is { Length: >= 7 } && sample.Written > 0 && sample.Read > 0) samples.Add(sample);
        }

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
        Console.WriteLine($"| stage of one warm call ({samples.Count} calls of add, sequential) | median µs |");
        Console.WriteLine("| --- | ---: |");
        foreach (var (stage, of) in stages)
        {
            var values = samples.Select(of).Order().ToList();
            Console.WriteLine(FormattableString.Invariant($"| {stage} | {values[values.Count / 2]:0.0} |"));
        }
    }

    private static string? Option(string[] args, string name)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
