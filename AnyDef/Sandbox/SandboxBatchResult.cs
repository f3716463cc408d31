namespace AnyDefNet;

/// <summary>The outcome of one input of a batch: its result as JSON, or the error it raised.</summary>
/// <param name="ResultJson">The result as JSON text, or null when the input failed.</param>
/// <param name="Error">The typed error of a failed input, or null.</param>
public sealed record SandboxBatchResult(string? ResultJson, AnyDefException? Error);
