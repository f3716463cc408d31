namespace AnyDefNet.Generators;

/// <summary>Everything the emitter needs about one [AnyDef] method: strings and numbers only, compared by value.</summary>
internal sealed record FunctionModel(
    string HintName,
    string Namespace,
    EquatableArray<ContainingType> Containers,
    string Modifiers,
    string ReturnType,
    string MethodName,
    string FieldName,
    string PythonName,
    string Description,
    EquatableArray<ParameterModel> Parameters,
    ResultKind Kind,
    string ResultType,
    bool ResultAllowsNull,
    string ReturnHint,
    EquatableArray<string> TypeDefinitions,
    EquatableArray<ExampleModel> Examples,
    EquatableArray<string> Packages,
    EquatableArray<JsonTypeModel> JsonTypes,
    string? JsonContext,
    string? StubError);

/// <summary>A type around the method, outermost first, as its partial declaration is written.</summary>
internal sealed record ContainingType(string Keyword, string Name);

/// <summary>One C# parameter; <see cref="PythonName"/> is null for a CancellationToken, which stays in C#.</summary>
internal sealed record ParameterModel(
    string Name,
    string Type,
    string Prefix,
    string? PythonName,
    string? Hint,
    string? ClrType,
    string? PythonDefault);

/// <summary>A type whose JSON metadata the generated code builds: its C# name and the expression that builds it from <c>options</c>.</summary>
internal sealed record JsonTypeModel(string Type, string Factory);

/// <summary>An example from the documentation: C# argument expressions (in parameter order) and the expected value.</summary>
internal sealed record ExampleModel(EquatableArray<string> Arguments, string Expected);

internal enum ResultKind
{
    Value,
    Task,
    ValueTask,
}
