namespace AnyDefNet;

/// <summary>
/// A call returned a result larger than <see cref="SandboxOptions.MaxResultBytes"/>. The result was dropped inside the
/// sandbox before it was sent; the process stays usable.
/// </summary>
public sealed class ResultTooLargeException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public ResultTooLargeException(string functionName, int limitBytes)
        : base($"The Python function '{functionName}' returned a result larger than the limit of {limitBytes} bytes " +
               $"({nameof(SandboxOptions)}.{nameof(SandboxOptions.MaxResultBytes)}). Return less data, or raise the limit.")
    {
        FunctionName = functionName;
        LimitBytes = limitBytes;
    }

    /// <summary>The function whose result was too large.</summary>
    public string FunctionName { get; }

    /// <summary>The limit that was exceeded, in bytes.</summary>
    public int LimitBytes { get; }
}
