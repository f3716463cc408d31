namespace AnyDefNet;

/// <summary>
/// A call ran past its timeout. It is not an <see cref="OperationCanceledException"/>: a caller's own cancellation
/// surfaces as that instead. The sandbox stays usable; a process that would not stop was replaced.
/// </summary>
public sealed class SandboxTimeoutException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public SandboxTimeoutException(string functionName, TimeSpan timeout, string detail)
        : base($"The Python function '{functionName}' did not finish within {timeout.TotalSeconds:0.###} s ({detail}). " +
               "Raise the timeout option if the work is legitimately long, or make the function faster.")
    {
        FunctionName = functionName;
        Timeout = timeout;
    }

    /// <summary>The function that timed out.</summary>
    public string FunctionName { get; }

    /// <summary>The timeout that was exceeded.</summary>
    public TimeSpan Timeout { get; }
}
