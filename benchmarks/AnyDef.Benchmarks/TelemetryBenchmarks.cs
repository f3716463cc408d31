using System.Diagnostics;
using System.Diagnostics.Metrics;
using AnyDefNet.Telemetry;
using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>What telemetry costs a warm call: with no listener, and with an activity and a meter listener attached (as an
/// OpenTelemetry exporter would be), side by side; and the telemetry hooks alone, without the sandbox.</summary>
public class TelemetryBenchmarks
{
    private PythonSandbox _warm = null!;
    private ActivityListener? _activities;
    private MeterListener? _meters;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        if (Listening)
        {
            _activities = new ActivityListener
            {
                ShouldListenTo = s => s.Name == AnyDefTelemetry.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = _ => { },
            };
            ActivitySource.AddActivityListener(_activities);
            _meters = new MeterListener { InstrumentPublished = (i, l) => { if (i.Meter.Name == AnyDefTelemetry.SourceName) l.EnableMeasurementEvents(i); } };
            _meters.SetMeasurementEventCallback<double>((_, _, _, _) => { });
            _meters.SetMeasurementEventCallback<long>((_, _, _, _) => { });
            _meters.Start();
        }

        _warm = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 0 });
        await _warm.RunAsync(Functions.Add, "add", "[1, 2]");
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _warm.DisposeAsync();
        _activities?.Dispose();
        _meters?.Dispose();
    }

    [Benchmark(Description = "warm call")]
    public async Task<string> WarmCall() => (await _warm.RunAsync(Functions.Add, "add", "[1, 2]")).ResultJson;

    [Benchmark(Description = "telemetry hooks of one call, alone")]
    public void HooksAlone()
    {
        using var call = SandboxCallTelemetry.Start("add", "call");
        call.Sent(1234);
    }
}
