namespace AnyDefNet;

/// <summary>The call exceeded the sandbox memory budget (<see cref="SandboxOptions.MemoryLimitMegabytes"/>).</summary>
public sealed class SandboxMemoryException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public SandboxMemoryException(string message) : base(message) { }
}
