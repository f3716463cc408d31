using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace AnyDefNet.Telemetry;

/// <summary>
/// The span and the duration of one sandbox call. A value type that costs two timestamps when nobody listens: the span
/// exists only while a listener samples it, and the histogram records only while a meter listener is enabled.
/// </summary>
internal readonly struct SandboxCallTelemetry : IDisposable
{
    private readonly Activity? _activity;
    private readonly string _function;
    private readonly long _started;
    private readonly StrongBox<string?>? _outcome;

    private SandboxCallTelemetry(Activity? activity, string function, bool measured)
    {
        _activity = activity;
        _function = function;
        _started = Stopwatch.GetTimestamp();
        _outcome = measured || activity is not null ? new StrongBox<string?>() : null;
    }

    public static SandboxCallTelemetry Start(string function, string op)
    {
        var activity = Instruments.Source.StartActivity(AnyDefTelemetry.SandboxCallSpan, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag("anydef.function", function);
            activity.SetTag("anydef.sandbox.operation", op);
        }

        return new SandboxCallTelemetry(activity, function, Instruments.CallDuration.Enabled || Instruments.Timeouts.Enabled);
    }

    /// <summary>The request was handed to its process: the time before it is the queued time.</summary>
    public void Sent(int processId)
    {
        if (_activity is null) return;
        _activity.SetTag("anydef.sandbox.process_id", processId);
        _activity.SetTag("anydef.sandbox.queued_ms", Stopwatch.GetElapsedTime(_started).TotalMilliseconds);
    }

    public void Fail(Exception error)
    {
        if (_outcome is null) return;
        _outcome.Value = Instruments.Outcome(error);
        if (error is SandboxTimeoutException) Instruments.Timeouts.Add(1, new KeyValuePair<string, object?>("anydef.function", _function));
        _activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        _activity?.SetTag("error.type", error.GetType().FullName);
    }

    public void Dispose()
    {
        if (_outcome is null) return;
        var outcome = _outcome.Value ?? "ok";
        if (Instruments.CallDuration.Enabled)
        {
            Instruments.CallDuration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds,
                new("anydef.function", _function), new("anydef.outcome", outcome));
        }

        if (_activity is null) return;
        _activity.SetTag("anydef.outcome", outcome);
        _activity.Dispose();
    }
}
