using System.ComponentModel;
using System.Text.Json;
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
    public DeclaredFunction(Type declaringType, string name, string description, ParameterSpec[] parameters, string returnHint, string[] typeDefinitions,
        bool resultAllowsNull, Action<DeclaredFunction<TResult>>? examples, string[]? packages = null)
        : base(declaringType)
    {
        _name = name;
        _resultAllowsNull = resultAllowsNull;
        examples?.Invoke(this);
        Spec = new FunctionSpec(name, description, parameters, returnHint, typeDefinitions,
            [.. _examples.Select(e => $"{e.Display} == {JsonEquivalence.AsPython(e.ExpectedJson)}")]).WithPackages(PackageSet.From(packages));
        _runtime = new FunctionRuntime(Spec, Checks, () => Options, declaringType.Assembly);
    }

    /// <inheritdoc />
    public override FunctionSpec Spec { get; }

    internal override SpecChecks Checks => new(_examples, json => Serialize(Convert(json, "")));

    /// <summary>Starts the arguments of a call.</summary>
    public DeclaredArguments Arguments() => new(_name);

    /// <summary>Adds an example the code must reproduce (called while the spec is built).</summary>
    public void Example(DeclaredArguments arguments, TResult expected)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        var packed = arguments.Pack();
        using var doc = JsonDocument.Parse(packed);
        var display = $"{_name}({string.Join(", ", doc.RootElement[0].EnumerateArray().Select(JsonEquivalence.AsPython))})";
        _examples.Add(new ExampleCheck(packed, Serialize(expected), display));
    }

    /// <summary>Calls the function in the sandbox and waits for the result; safe on any thread.</summary>
    public TResult Invoke(DeclaredArguments arguments, CancellationToken cancellationToken) =>
        Task.Run(() => InvokeAsync(arguments, cancellationToken), CancellationToken.None).GetAwaiter().GetResult();

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

    private static string Serialize(TResult value) => JsonSerializer.Serialize(value, Json.Options);

    private TResult Convert(string json, string code)
    {
        try
        {
            var value = JsonSerializer.Deserialize<TResult>(json, Json.Options);
            if (value is null && !typeof(TResult).IsValueType && json == "null" && !_resultAllowsNull)
            {
                throw new JsonException("null is not a value of a non-nullable result type.");
            }

            return value!;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or FormatException or OverflowException)
        {
            throw new ResultConversionException(_name, json, typeof(TResult), code, ex);
        }
    }
}
