using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace AnyDefNet;

/// <summary>
/// The names under which AnyDef reports what it does, through <c>System.Diagnostics</c> only: one
/// <see cref="ActivitySource"/> and one <see cref="Meter"/>, both named <see cref="SourceName"/>.
/// </summary>
/// <remarks>With OpenTelemetry: <c>tracing.AddSource(AnyDefTelemetry.SourceName)</c> and <c>metrics.AddMeter(AnyDefTelemetry.SourceName)</c>.
/// Nothing is recorded (and almost nothing is paid) while no listener is attached.</remarks>
public static class AnyDefTelemetry
{
    /// <summary>The name of AnyDef's activity source and meter: <c>AnyDef</c>.</summary>
    public const string SourceName = "AnyDef";

    /// <summary>The span of finding a function's code (memory, store, distributed cache or model).</summary>
    public const string ResolveSpan = "anydef.resolve";

    /// <summary>The span of one sandbox call (or one batch).</summary>
    public const string SandboxCallSpan = "anydef.sandbox.call";

    /// <summary>The span of one generation attempt is named <c>chat {model}</c>, as the GenAI semantic conventions name a chat request.</summary>
    public const string GenerationSpanPrefix = "chat";
}
