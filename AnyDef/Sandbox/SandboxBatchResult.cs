namespace AnyDefNet;

/// <summary>The outcome of one input of a batch: its result as JSON, or the error it raised.</summary>
/// <param name="ResultJson">The result as JSON text, or null when the input failed.</param>
/// <param name="Error">The typed error of a failed input, or null.</param>
/// <remarks>A value type: a stream of many inputs allocates no outcome object per input.</remarks>
public readonly record struct SandboxBatchResult(string? ResultJson, AnyDefException? Error);
