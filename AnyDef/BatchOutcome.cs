namespace AnyDefNet;

/// <summary>The outcome of one input of a batch: its value, or the typed error that input ended with.</summary>
/// <typeparam name="T">The function's result type.</typeparam>
/// <param name="Value">The result, when the input succeeded.</param>
/// <param name="Error">The input's error (Python raised, timeout, crash, memory, result too large or not convertible), or null.</param>
/// <remarks>A value type: a stream of many inputs allocates no outcome object per input.</remarks>
public readonly record struct BatchOutcome<T>(T? Value, AnyDefException? Error)
{
    /// <summary>Whether the input produced a value.</summary>
    public bool Succeeded => Error is null;
}
