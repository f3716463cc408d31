namespace AnyDefNet;

/// <summary>
/// The sandbox process ended while a call was in flight (a crash, a fatal interpreter error, a kill from outside,
/// or its memory budget). The process has been replaced; calling again is safe.
/// </summary>
public sealed class SandboxCrashedException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public SandboxCrashedException(string message, string? hostOutput = null, Exception? innerException = null)
        : base(message, innerException) => HostOutput = hostOutput;

    /// <summary>The last lines the host process wrote to its standard streams, if any (untrusted text).</summary>
    public string? HostOutput { get; }
}
