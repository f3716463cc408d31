namespace AnyDefNet;

/// <summary>The model's reply held no usable code for the function; every reply is attached.</summary>
public sealed class CodeGenerationException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public CodeGenerationException(string message, string functionName, IReadOnlyList<string> replies)
        : base(message)
    {
        FunctionName = functionName;
        Replies = replies;
    }

    /// <summary>The function being generated.</summary>
    public string FunctionName { get; }

    /// <summary>The model's replies, in order.</summary>
    public IReadOnlyList<string> Replies { get; }
}
