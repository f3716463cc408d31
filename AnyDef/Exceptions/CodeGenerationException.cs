namespace AnyDefNet;

/// <summary>The model's reply held no usable code for the function; every reply is attached.</summary>
public sealed class CodeGenerationException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public CodeGenerationException(string message, string functionName, IReadOnlyList<GenerationAttempt> attempts)
        : base(message)
    {
        FunctionName = functionName;
        Attempts = attempts;
    }

    /// <summary>The function being generated.</summary>
    public string FunctionName { get; }

    /// <summary>Every attempt: the reply, the code taken from it and why it failed, in order.</summary>
    public IReadOnlyList<GenerationAttempt> Attempts { get; }

    /// <summary>Tokens every attempt used together (each attempt's own is on <see cref="GenerationAttempt.Usage"/>).</summary>
    public TokenUsage Usage => Attempts.Aggregate(TokenUsage.None, (sum, a) => sum + a.Usage);

    /// <summary>The model's replies, in order.</summary>
    public IReadOnlyList<string> Replies => [.. Attempts.Select(a => a.Reply)];
}
