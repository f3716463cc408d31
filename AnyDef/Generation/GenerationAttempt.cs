namespace AnyDefNet;

/// <summary>One round with the model: its reply, the code taken from it (if any), and why it was rejected.</summary>
/// <param name="Reply">The model's reply, verbatim.</param>
/// <param name="Code">The code extracted from the reply, or null when there was none.</param>
/// <param name="Failure">Why the code was not accepted.</param>
public sealed record GenerationAttempt(string Reply, string? Code, string Failure)
{
    /// <summary>Tokens this attempt's request used, as the model server reported them.</summary>
    public TokenUsage Usage { get; init; } = TokenUsage.None;
}
