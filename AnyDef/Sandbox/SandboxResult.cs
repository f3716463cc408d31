namespace AnyDefNet;

/// <summary>The outcome of one successful sandbox call.</summary>
/// <param name="ResultJson">The function's return value as JSON text.</param>
/// <param name="Output">What the call printed (standard output and error of Python), capped at 64 KiB.</param>
public sealed record SandboxResult(string ResultJson, string Output);
