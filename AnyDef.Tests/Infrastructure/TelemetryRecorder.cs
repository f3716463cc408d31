using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Listens to AnyDef's activity source and meter the way an exporter would, and keeps what it saw.</summary>
public sealed class TelemetryRecorder : IDisposable
{
    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ConcurrentQueue<Measurement> _measurements = new();

    public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags);

    public TelemetryRecorder()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = s => s.Name == AnyDefTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_activities);

        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == AnyDefTelemetry.SourceName) listener.EnableMeasurementEvents(instrument);
            },
        };
        _meters.SetMeasurementEventCallback<long>((i, v, tags, _) => Add(i, v, tags));
        _meters.SetMeasurementEventCallback<double>((i, v, tags, _) => Add(i, v, tags));
        _meters.Start();
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dict = new Dictionary<string, object?>();
        foreach (var t in tags) dict[t.Key] = t.Value;
        _measurements.Enqueue(new Measurement(instrument.Name, value, dict));
    }

    /// <summary>Spans that ended, of one function (other specs run in parallel and report their own).</summary>
    public IReadOnlyList<Activity> Spans(string function) =>
        [.. _spans.Where(a => a.GetTagItem("anydef.function") as string == function)];

    /// <summary>Measurements of one instrument for one function.</summary>
    public IReadOnlyList<Measurement> Measurements(string instrument, string? function = null)
    {
        _meters.RecordObservableInstruments();
        return [.. _measurements.Where(m => m.Instrument == instrument && (function is null || m.Tags.GetValueOrDefault("anydef.function") as string == function))];
    }

    public void Dispose()
    {
        _activities.Dispose();
        _meters.Dispose();
    }
}
