using System.Diagnostics;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// An internal timing mode for the bridge: when <see cref="Enabled"/> is set before a host starts, every reply carries
/// the host's and the worker's own durations, and a call that runs with a <see cref="Sample"/> in <see cref="Current"/>
/// gets the .NET side's timestamps. Each side measures durations on its own clock, so no clocks need to agree; the
/// hops are what is left of a round trip after the other side's time. Off, it costs one null check per call.
/// </summary>
internal static class BridgeProfile
{
    /// <summary>Hosts started while this is set time every request.</summary>
    public static volatile bool Enabled;

    /// <summary>The sample the current call fills in.</summary>
    public static readonly AsyncLocal<Sample?> Current = new();

    /// <summary>The timestamps of one call (<see cref="Stopwatch"/> ticks) and the host's durations (microseconds).</summary>
    public sealed class Sample
    {
        /// <summary>Before the call began.</summary>
        public long Start;

        /// <summary>When the request's bytes had been written to the socket.</summary>
        public long Written;

        /// <summary>When the reply line had been read and handed to its request.</summary>
        public long Read;

        /// <summary>When the caller had its result.</summary>
        public long Resumed;

        /// <summary>The host's durations: [host in, host residence, worker before Python, Python, worker after Python, host out, worker residence].</summary>
        public double[]? Host;
    }
}
