namespace AnyDefNet;

/// <summary>Code for one function and where it came from.</summary>
/// <param name="Code">The Python source.</param>
/// <param name="Source">Where it came from: <c>memory</c>, <c>store</c>, <c>distributed</c> (the shared cache) or <c>model</c>.</param>
/// <param name="Model">The model that wrote it, when known.</param>
/// <param name="StorePath">The store file it was read from or written to, if any.</param>
public sealed record GeneratedCode(string Code, string Source, string? Model, string? StorePath)
{
    /// <summary>Tokens the generation used, every attempt included: measured when the model wrote it, read from the store
    /// file's header otherwise; null when unknown (hand-written code, a header without the line).</summary>
    public TokenUsage? Usage { get; init; }

    // Whether the code was read from a store file marked reviewed: frozen mode serves nothing else from memory either.
    internal bool Reviewed { get; init; }
}
