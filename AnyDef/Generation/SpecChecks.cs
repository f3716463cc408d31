namespace AnyDefNet.Generation;

/// <summary>What a candidate must satisfy beyond compiling: the user's examples, and results that fit the declared type.</summary>
/// <param name="Examples">Inputs with their expected results.</param>
/// <param name="Normalize">Turns a result's JSON into the canonical JSON of the declared type, or throws when it does not fit.</param>
internal sealed record SpecChecks(IReadOnlyList<ExampleCheck> Examples, Func<string, string> Normalize)
{
    public static SpecChecks None { get; } = new([], json => json);
}

/// <summary>One example: the packed arguments, the expected result as canonical JSON, and how to show the call.</summary>
internal sealed record ExampleCheck(string PackedArguments, string ExpectedJson, string Display);
