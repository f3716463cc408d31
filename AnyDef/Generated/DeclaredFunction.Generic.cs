using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using AnyDefNet.Generation;
using AnyDefNet.Internal;

namespace AnyDefNet.Generated;

/// <summary>The function behind one <see cref="AnyDefAttribute"/> method returning <typeparamref name="TResult"/> (or a task of it).
/// Written by the AnyDef source generator; not for direct use.</summary>
/// <typeparam name="TResult">The result type.</typeparam>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DeclaredFunction<TResult> : DeclaredFunction
{
    private readonly string _name;
    private readonly bool _resultAllowsNull;
    private readonly List<ExampleCheck> _examples = [];
    private readonly FunctionRuntime _runtime;
    private readonly JsonSerializerOptions _json;

    /// <summary>Builds the spec from what the source generator read from the method.</summary>
    /// <param name="declaringType">The type that declares the method (its assembly may embed the store).</param>
    /// <param name="name">The Python function name.</param>
    /// <param name="description">The docstring.</param>
    /// <param name="parameters">The Python parameters.</param>
    /// <param name="returnHint">The Python type hint of the result.</param>
    /// <param name="typeDefinitions">TypedDict definitions of the records the signature uses.</param>
    /// <param name="resultAllowsNull">Whether the declared result type is nullable.</param>
    /// <param name="examples">Adds the documented examples with <see cref="Example"/>.</param>
    /// <param name="packages">The Python packages the code may import (<see cref="AnyDefAttribute.Packages"/>).</param>
    /// <param name="jsonTypes">JSON metadata the generator wrote for the collections, nullable values and enums the method
    /// uses (with <see cref="DeclaredJson"/>); null for none.</param>
    /// <param name="jsonContext">The application's source-generated JSON metadata for its records
    /// (<see cref="AnyDefDefaultsAttribute.JsonContext"/>), or null.</param>
    /// <remarks>Scalars need no metadata; any other type is read through reflection only where the application allows it
    /// (<see cref="JsonSerializer.IsReflectionEnabledByDefault"/>, off in trimmed and Native AOT apps).</remarks>
    public DeclaredFunction(Type declaringType, string name, string description, ParameterSpec[] parameters, string returnHint, string[] typeDefinitions,
        bool resultAllowsNull, Action<DeclaredFunction<TResult>>? examples, string[]? packages = null,
        Func<Type, JsonSerializerOptions, JsonTypeInfo?>? jsonTypes = null, IJsonTypeInfoResolver? jsonContext = null)
        : base(declaringType)
    {
        _name = name;
        _resultAllowsNull = resultAllowsNull;
        JsonTypes = jsonTypes;
        JsonContext = jsonContext;
        _json = Json.ForDeclared(jsonTypes, jsonContext);
        examples?.Invoke(this);
        Spec = new FunctionSpec(name, description, parameters, returnHint, typeDefinitions,
            [.. _examples.Select(e => $"{e.Display} == {JsonEquivalence.AsPython(e.ExpectedJson, Internal.Values.WireTypes.Describe(typeof(TResult), _json))}")]).WithPackages(PackageSet.From(packages));
        _runtime = new FunctionRuntime(Spec, Checks, () => Options, declaringType.Assembly);
    }

    /// <inheritdoc />
    public override FunctionSpec Spec { get; }

    /// <summary>The JSON metadata the generator wrote for the method, or null.</summary>
    internal Func<Type, JsonSerializerOptions, JsonTypeInfo?>? JsonTypes { get; }

    /// <summary>The application's JSON context named for the method, or null.</summary>
    internal IJsonTypeInfoResolver? JsonContext { get; }

    internal override SpecChecks Checks => new(_examples, json => Serialize(Convert(json, "")));

    /// <summary>Starts the arguments of a call.</summary>
    public DeclaredArguments Arguments() => new(_name, _json, Spec?.Parameters);

    /// <summary>Adds an example the code must reproduce (called while the spec is built).</summary>
    public void Example(DeclaredArguments arguments, TResult expected)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var packed = arguments.Pack();
        using var doc = JsonDocument.Parse(packed);
        var descriptors = doc.RootElement.GetArrayLength() > 2 ? doc.RootElement[2] : default;
        var display = $"{_name}({string.Join(", ", doc.RootElement[0].EnumerateArray().Select((a, i) => JsonEquivalence.AsPython(a,
            descriptors.ValueKind == JsonValueKind.Array ? System.Text.Json.Nodes.JsonNode.Parse(descriptors[i].GetRawText()) : null)))})";
        _examples.Add(new ExampleCheck(packed, Serialize(expected), display));
    }

    /// <summary>Calls the function in the sandbox and waits for the result; safe on any thread.</summary>
    public TResult Invoke(DeclaredArguments arguments, CancellationToken cancellationToken) =>
        Blocking.Wait(() => InvokeAsync(arguments, cancellationToken));

    /// <summary>Calls the function in the sandbox.</summary>
    /// <exception cref="PythonExecutionException">The Python code raised.</exception>
    /// <exception cref="SandboxTimeoutException">The call ran past <see cref="AnyDefOptions.Timeout"/>.</exception>
    /// <exception cref="ResultConversionException">The result does not fit <typeparamref name="TResult"/>.</exception>
    /// <exception cref="FunctionNotStoredException">Frozen mode is on and no store has the function.</exception>
    public async Task<TResult> InvokeAsync(DeclaredArguments arguments, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        cancellationToken.ThrowIfCancellationRequested();
        var (result, code) = await _runtime.CallAsync(arguments.Pack(), cancellationToken).ConfigureAwait(false);
        return Convert(result.ResultJson, code);
    }

    internal override async Task<string> InvokeJsonAsync(string packedArguments, CancellationToken cancellationToken)
    {
        var (result, code) = await _runtime.CallAsync(packedArguments, cancellationToken).ConfigureAwait(false);
        return Serialize(Convert(result.ResultJson, code));
    }

    private string Serialize(TResult value) => JsonSerializer.Serialize(value, Json.TypeInfo<TResult>(_json));

    private TResult Convert(string json, string code) =>
        Internal.Values.ResultReader.Read(json, Json.TypeInfo<TResult>(_json), _resultAllowsNull, _name, code);
}
