namespace AnyDefNet;

/// <summary>One parameter of a generated function.</summary>
/// <param name="PythonName">The Python parameter name (snake_case).</param>
/// <param name="ClrName">The C# property it comes from.</param>
/// <param name="Hint">The Python type hint.</param>
/// <param name="ClrType">The C# type, as shown in the prompt.</param>
public sealed record ParameterSpec(string PythonName, string ClrName, string Hint, string ClrType)
{
    /// <summary>The Python default value shown in the signature (such as <c>40</c> or <c>None</c>), or null for none.</summary>
    public string? Default { get; init; }
}
