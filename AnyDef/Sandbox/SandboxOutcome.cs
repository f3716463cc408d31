using System.Runtime.ExceptionServices;

namespace AnyDefNet;

/// <summary>The outcome of one input on the sandbox's one request path: its result (JSON and output), or the error it ended with.</summary>
/// <remarks>A value: a batch of a million inputs holds a million of these, not a million closures.</remarks>
internal readonly record struct SandboxOutcome(string? ResultJson, string Output, Exception? Error)
{
    public static SandboxOutcome Failed(Exception error, string output = "") => new(null, output, error);

    /// <summary>The result, or the input's error thrown (with the stack it was made with, when it was thrown before).</summary>
    public SandboxResult Result
    {
        get
        {
            if (Error is { } error) ExceptionDispatchInfo.Throw(error);
            return new SandboxResult(ResultJson!, Output);
        }
    }

    /// <summary>Whether the input did not run to an outcome of its own because the caller cancelled.</summary>
    public bool Cancelled => Error is OperationCanceledException;
}
