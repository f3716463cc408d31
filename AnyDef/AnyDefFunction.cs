using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Text.Json;
using AnyDefNet.Generation;
using AnyDefNet.Internal;
using AnyDefNet.Internal.Values;

namespace AnyDefNet;

/// <summary>
/// A declared function: its spec, its code (resolved once, on first use) and the ways to call it.
/// Obtain one with <see cref="AnyDef.Function{TArgs,TResult}"/>.
/// </summary>
/// <typeparam name="TArgs">A record whose properties, in declaration order, are the parameters.</typeparam>
/// <typeparam name="TResult">The result type.</typeparam>
[RequiresUnreferencedCode(Json.ReflectionMessage)]
[RequiresDynamicCode(Json.ReflectionMessage)]
public sealed class AnyDefFunction<TArgs, TResult>
{
    private static readonly PropertyInfo[] s_properties = [.. Specs.PythonTypes.Properties(typeof(TArgs))];
    private readonly FunctionRuntime _runtime;

    internal AnyDefFunction(string name, string description, AnyDefOptions? options, IEnumerable<(TArgs Args, TResult Expected)>? examples)
    {
        options?.Validate();
        var checks = (examples ?? []).Select(e => Example(name, e.Args, e.Expected)).ToList();
        Spec = FunctionSpec.For<TArgs, TResult>(name, description, [.. checks.Select(c => $"{c.Display} == {JsonEquivalence.AsPython(c.ExpectedJson, WireTypes.Describe(typeof(TResult), Json.Options))}")])
            .WithPackages((options ?? AnyDef.CurrentOptions).AllPackages);
        _runtime = new FunctionRuntime(Spec, new SpecChecks(checks, json => Serialize(Convert(json, ""))), options);
    }

    private ExampleCheck Example(string name, TArgs args, TResult expected)
    {
        var packed = Pack(args, name);
        using var doc = JsonDocument.Parse(packed);
        var descriptors = doc.RootElement.GetArrayLength() > 2 ? doc.RootElement[2] : default;
        var display = $"{name}({string.Join(", ", doc.RootElement[0].EnumerateArray().Select((a, i) => JsonEquivalence.AsPython(a,
            descriptors.ValueKind == JsonValueKind.Array ? System.Text.Json.Nodes.JsonNode.Parse(descriptors[i].GetRawText()) : null)))})";
        return new ExampleCheck(packed, Serialize(expected), display);
    }

    private static string Serialize(TResult value) => JsonSerializer.Serialize(value, Json.Options);

    /// <summary>What the model is (or was) asked to write.</summary>
    public FunctionSpec Spec { get; }

    /// <summary>The settings this function runs with (for a function declared without options, <see cref="AnyDef.CurrentOptions"/>).</summary>
    public AnyDefOptions Options => _runtime.Options;

    /// <summary>Returns the function's code: from memory, the store, or the model (once).</summary>
    /// <exception cref="FunctionNotStoredException">Frozen mode is on and the store lacks the function.</exception>
    /// <exception cref="ModelException">The model could not be asked.</exception>
    /// <exception cref="CodeGenerationException">The model gave no usable code.</exception>
    public Task<GeneratedCode> GetCodeAsync(CancellationToken cancellationToken = default) => _runtime.GetCodeAsync(cancellationToken);

    /// <summary>Calls the function in the sandbox.</summary>
    /// <exception cref="PythonExecutionException">The Python code raised.</exception>
    /// <exception cref="SandboxTimeoutException">The call ran past <see cref="AnyDefOptions.Timeout"/>.</exception>
    /// <exception cref="ResultConversionException">The result does not fit <typeparamref name="TResult"/>.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public async Task<TResult> InvokeAsync(TArgs args, CancellationToken cancellationToken = default)
    {
        var (result, code) = await _runtime.CallAsync(Pack(args), cancellationToken).ConfigureAwait(false);
        return Convert(result.ResultJson, code);
    }

    /// <summary>Calls the function synchronously; safe on any thread, including one with a synchronization context.</summary>
    public TResult Invoke(TArgs args) =>
        Blocking.Wait(() => InvokeAsync(args, CancellationToken.None));

    /// <summary>Calls the function over many inputs, sent to the sandbox together; results come back in input order.</summary>
    /// <remarks><see cref="AnyDefOptions.Timeout"/> applies to each input. The first input that fails raises its error; the sandbox streams
    /// every outcome with <see cref="PythonSandbox.StreamBatchAsync"/>.</remarks>
    public async Task<IReadOnlyList<TResult>> MapAsync(IEnumerable<TArgs> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (outcomes, code) = await _runtime.CallBatchAsync([.. inputs.Select(Pack)], cancellationToken).ConfigureAwait(false);
        return [.. outcomes.Select(o => Convert(o.Result.ResultJson, code))];
    }

    /// <summary>
    /// Calls the function over a stream of inputs and yields each input's outcome (its value or its own typed error) as
    /// soon as it is ready, in input order. <see cref="AnyDefOptions.Timeout"/> applies to each input; an input that
    /// times out, runs out of memory or ends its process does not fail the others, and no input runs twice.
    /// </summary>
    /// <param name="inputs">The inputs, read as the batch goes.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    public async IAsyncEnumerable<BatchOutcome<TResult>> StreamAsync(IAsyncEnumerable<TArgs> inputs,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        await foreach (var (outcome, code) in _runtime.StreamBatchAsync(inputs.Select(Pack), cancellationToken).ConfigureAwait(false))
        {
            BatchOutcome<TResult> result;
            if (outcome.Error is not null)
            {
                result = new BatchOutcome<TResult>(default, (AnyDefException)outcome.Error);
            }
            else
            {
                try
                {
                    result = new BatchOutcome<TResult>(Convert(outcome.ResultJson!, code), null);
                }
                catch (AnyDefException ex)
                {
                    result = new BatchOutcome<TResult>(default, ex);
                }
            }

            yield return result;
        }
    }

    /// <summary>Calls the function with packed arguments; returns its result, converted to <typeparamref name="TResult"/>, as JSON.</summary>
    internal async Task<string> InvokeJsonAsync(string packedArguments, CancellationToken cancellationToken)
    {
        var (result, code) = await _runtime.CallAsync(packedArguments, cancellationToken).ConfigureAwait(false);
        return Serialize(Convert(result.ResultJson, code));
    }

    private string Pack(TArgs args) => Pack(args, Spec.Name);

    private static string Pack(TArgs args, string functionName)
    {
        ArgumentNullException.ThrowIfNull(args);
        var buffer = new ArrayBufferWriter<byte>(256);
        WireMarks.Special = false;
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { MaxDepth = Json.MaxDepth + 2, SkipValidation = false }))
        {
            w.WriteStartArray();
            w.WriteStartArray();
            foreach (var p in s_properties)
            {
                try
                {
                    JsonSerializer.Serialize(w, p.GetValue(args), p.PropertyType, Json.Options);
                }
                catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
                {
                    throw new ArgumentSerializationException(functionName, typeof(TArgs), ArgumentPath(Specs.Naming.Snake(p.Name), ex), p.PropertyType,
                        new Specs.PythonTypes().Hint(p), ex);
                }
            }

            w.WriteEndArray();
            w.WriteStartObject();
            w.WriteEndObject();
            // Decimals and non-finite floats need their types in Python: the call carries where they are.
            if (WireMarks.Special)
            {
                w.WriteStartArray();
                foreach (var p in s_properties) w.WriteRawValue(WireTypes.Describe(p.PropertyType, Json.Options));
                w.WriteEndArray();
            }

            w.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static string ArgumentPath(string parameter, Exception ex) =>
        (ex as JsonException)?.Path is { Length: > 1 } path ? parameter + path[1..] : parameter;

    private TResult Convert(string json, string code) =>
        ResultReader.Read(json, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<TResult>)Json.Options.GetTypeInfo(typeof(TResult)), AllowsNull, Spec?.Name ?? "", code);

    // A reference-type result can only be null when the spec says "| None", which nullable TResult declarations do not carry.
    private static bool AllowsNull => Nullable.GetUnderlyingType(typeof(TResult)) is not null || typeof(TResult) == typeof(object) || typeof(TResult) == typeof(JsonElement);
}
