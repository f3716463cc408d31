namespace AnyDefNet;

/// <summary>The sandbox runtime (Deno or Pyodide) is missing or could not start.</summary>
public sealed class SandboxUnavailableException : AnyDefException
{
    /// <summary>Creates the exception; the message names the missing part and how to install it.</summary>
    public SandboxUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException) { }
}
