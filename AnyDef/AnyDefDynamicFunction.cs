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
    private readonly PythonSandbox _sandbox;
    private GeneratedCode? _code;

    internal AnyDefDynamicFunction(FunctionSpec spec, AnyDefOptions options)
    {
        options.Validate();
        Spec = spec;
        Options = options;
        _sandbox = PythonSandbox.GetShared(options.Sandbox);
    }

    /// <summary>What the model is (or was) asked to write.</summary>
    public FunctionSpec Spec { get; }

    /// <summary>The settings this function runs with.</summary>
    public AnyDefOptions Options { get; }

    /// <summary>Returns the function's code: from memory, the store, or the model (once).</summary>
    public async Task<GeneratedCode> GetCodeAsync(CancellationToken cancellationToken = default)
    {
        if (_code is { } code) return code;
        code = await CodeResolver.ResolveAsync(Spec, SpecChecks.None, Options, _sandbox, cancellationToken).ConfigureAwait(false);
        if (Interlocked.CompareExchange(ref _code, code, null) is null && Options.Debug) DebugOutput.Code(Options, Spec.Name, code);
        return _code;
    }

    /// <summary>Calls the function with positional and keyword arguments given as JSON; returns the result as JSON.</summary>
    /// <param name="arguments">The positional arguments, or null for none.</param>
    /// <param name="keywordArguments">The keyword arguments, or null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public async Task<JsonNode?> InvokeAsync(JsonArray? arguments = null, JsonObject? keywordArguments = null, CancellationToken cancellationToken = default)
    {
        var result = await InvokeRawAsync((arguments ?? []).ToJsonString(), (keywordArguments ?? []).ToJsonString(), cancellationToken).ConfigureAwait(false);
        return JsonNode.Parse(result.ResultJson);
    }

    /// <summary>Calls the function with arguments given as JSON elements; returns the result as a JSON element.</summary>
    public async Task<JsonElement> InvokeAsync(JsonElement arguments, JsonElement? keywordArguments = null, CancellationToken cancellationToken = default)
    {
        if (arguments.ValueKind != JsonValueKind.Array) throw new ArgumentException("The positional arguments must be a JSON array.", nameof(arguments));
        if (keywordArguments is { ValueKind: not JsonValueKind.Object }) throw new ArgumentException("The keyword arguments must be a JSON object.", nameof(keywordArguments));
        var result = await InvokeRawAsync(arguments.GetRawText(), keywordArguments?.GetRawText() ?? "{}", cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(result.ResultJson);
        return doc.RootElement.Clone();
    }

    /// <summary>Calls the function over many positional-argument arrays in one round trip; outcomes in input order.</summary>
    /// <remarks>Each outcome is either a result or the error that input raised; one failing input does not fail the rest.</remarks>
    public async Task<IReadOnlyList<Func<JsonNode?>>> MapAsync(IEnumerable<JsonArray> inputs, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var packed = inputs.Select(a => PythonSandbox.Pack(a.ToJsonString(), null)).ToList();
        if (packed.Count == 0) return [];
        var code = await GetCodeAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = await _sandbox.CallBatchAsync(code.Code, Spec.Name, packed, Options.Timeout, cancellationToken).ConfigureAwait(false);
        return [.. outcomes.Select(o => (Func<JsonNode?>)(() => JsonNode.Parse(o().ResultJson)))];
    }

    private async Task<SandboxResult> InvokeRawAsync(string arguments, string keywordArguments, CancellationToken cancellationToken)
    {
        var code = await GetCodeAsync(cancellationToken).ConfigureAwait(false);
        var result = await _sandbox.CallAsync(code.Code, Spec.Name, PythonSandbox.Pack(arguments, keywordArguments), Options.Timeout, cancellationToken).ConfigureAwait(false);
        if (result.Output.Length > 0 && Options.Debug) DebugOutput.Write(Options, $"[anydef] {Spec.Name} printed:\n{result.Output}");
        return result;
    }
}
