using System.Text.Json;
using System.Text.Json.Nodes;
using AnyDefNet.Generation;
using AnyDefNet.Internal;

namespace AnyDefNet;

/// <summary>
/// A function declared by a Python signature string, called with JSON arguments and returning JSON: for dynamic
/// use (tools, scripts, the command line). Obtain one with <see cref="AnyDef.FromSignature"/>.
/// </summary>
public sealed class AnyDefDynamicFunction
{
    private readonly FunctionRuntime _runtime;

    internal AnyDefDynamicFunction(FunctionSpec spec, AnyDefOptions? options)
    {
        options?.Validate();
        Spec = spec.WithPackages((options ?? AnyDef.CurrentOptions).AllPackages);
        _runtime = new FunctionRuntime(Spec, SpecChecks.None, options);
    }

    /// <summary>What the model is (or was) asked to write.</summary>
    public FunctionSpec Spec { get; }

    /// <summary>The settings this function runs with (for a function declared without options, <see cref="AnyDef.CurrentOptions"/>).</summary>
    public AnyDefOptions Options => _runtime.Options;

    /// <summary>Returns the function's code: from memory, the store, or the model (once).</summary>
    public Task<GeneratedCode> GetCodeAsync(CancellationToken cancellationToken = default) => _runtime.GetCodeAsync(cancellationToken);

    /// <summary>Calls the function with positional and keyword arguments given as JSON; returns the result as JSON.</summary>
    /// <param name="arguments">The positional arguments, or null for none.</param>
    /// <param name="keywordArguments">The keyword arguments, or null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<JsonNode?> InvokeAsync(JsonArray? arguments = null, JsonObject? keywordArguments = null, CancellationToken cancellationToken = default)
    {
        var (result, _) = await _runtime.CallAsync(Pack(arguments, keywordArguments), cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(result.ResultJson, documentOptions: new JsonDocumentOptions { MaxDepth = Json.MaxDepth });
    }

    /// <summary>Calls the function with arguments given as JSON elements; returns the result as a JSON element.</summary>
    public async Task<JsonElement> InvokeAsync(JsonElement arguments, JsonElement? keywordArguments = null, CancellationToken cancellationToken = default)
    {
        if (arguments.ValueKind != JsonValueKind.Array) throw new ArgumentException("The positional arguments must be a JSON array.", nameof(arguments));
        if (keywordArguments is { ValueKind: not JsonValueKind.Object }) throw new ArgumentException("The keyword arguments must be a JSON object.", nameof(keywordArguments));
        var (result, _) = await _runtime.CallAsync(Pack(JsonNode.Parse(arguments.GetRawText())!.AsArray(),
            keywordArguments is { } k ? JsonNode.Parse(k.GetRawText())!.AsObject() : null), cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(result.ResultJson, new JsonDocumentOptions { MaxDepth = Json.MaxDepth });
        return doc.RootElement.Clone();
    }

    /// <summary>Calls the function with packed arguments; returns its result as JSON.</summary>
    internal async Task<string> InvokeJsonAsync(string packedArguments, CancellationToken cancellationToken) =>
        (await _runtime.CallAsync(packedArguments, cancellationToken).ConfigureAwait(false)).Result.ResultJson;

    /// <summary>Calls the function over many positional-argument arrays; one outcome per input, in input order.</summary>
    /// <remarks>Each outcome is either a result or the typed error that input ended with; one failing input does not fail the rest.</remarks>
    public async Task<IReadOnlyList<BatchOutcome<JsonNode?>>> MapAsync(IEnumerable<JsonArray> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (outcomes, _) = await _runtime.CallBatchAsync([.. inputs.Select(a => Pack(a, null))], cancellationToken).ConfigureAwait(false);
        return [.. outcomes.Select(o => o.Error is { } error
            ? new BatchOutcome<JsonNode?>(null, (AnyDefException)error)
            : new BatchOutcome<JsonNode?>(JsonNode.Parse(o.ResultJson!, documentOptions: new JsonDocumentOptions { MaxDepth = Json.MaxDepth }), null))];
    }

    // The hints say where a float or a Decimal is expected: the call carries that, and decimals keep the digits written.
    private string Pack(JsonArray? arguments, JsonObject? keywordArguments)
    {
        var hints = Spec.Parameters.Select(p => Internal.Values.HintTypes.Describe(p.Hint)).ToList();
        if (hints.All(h => h is null)) return PythonSandbox.Pack((arguments ?? []).ToJsonString(), (keywordArguments ?? []).ToJsonString());
        var positional = new JsonArray([.. (arguments ?? []).Select((a, i) => Internal.Values.HintTypes.Exact(a, hints.ElementAtOrDefault(i)))]);
        var keywords = new JsonObject((keywordArguments ?? []).Select(kv =>
            KeyValuePair.Create(kv.Key, Internal.Values.HintTypes.Exact(kv.Value, hints.ElementAtOrDefault(Spec.Parameters.ToList().FindIndex(p => p.PythonName == kv.Key))))));
        var byName = new JsonObject(Spec.Parameters.Zip(hints).Where(p => p.Second is not null).Select(p => KeyValuePair.Create<string, JsonNode?>(p.First.PythonName, p.Second!.DeepClone())));
        return new JsonArray(positional, keywords, new JsonArray([.. hints.Select(h => h?.DeepClone())]), byName).ToJsonString();
    }
}
