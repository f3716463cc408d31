using System.Runtime.CompilerServices;
using AnyDefNet.Generation;

namespace AnyDefNet.Internal;

/// <summary>
/// What every declared function does whatever its argument types: resolve its code once (memory, store, model),
/// run it in the sandbox, and show debug output. The typed and the JSON functions differ only in packing and results.
/// </summary>
internal sealed class FunctionRuntime(FunctionSpec spec, SpecChecks checks, AnyDefOptions options)
{
    private readonly PythonSandbox _sandbox = PythonSandbox.GetShared(options.Sandbox);
    private GeneratedCode? _code;

    public async Task<GeneratedCode> GetCodeAsync(CancellationToken cancellationToken)
    {
        if (_code is { } code) return code;
        code = await CodeResolver.ResolveAsync(spec, checks, options, _sandbox, cancellationToken).ConfigureAwait(false);
        if (Interlocked.CompareExchange(ref _code, code, null) is null && options.Debug) DebugOutput.Code(options, spec.Name, code);
        return _code;
    }

    /// <summary>Runs one call with packed arguments; returns the result and the code that produced it.</summary>
    public async Task<(SandboxResult Result, string Code)> CallAsync(string packedArguments, CancellationToken cancellationToken)
    {
        var code = await GetCodeAsync(cancellationToken).ConfigureAwait(false);
        var result = await _sandbox.CallAsync(code.Code, spec.Name, packedArguments, options.Timeout, cancellationToken).ConfigureAwait(false);
        if (result.Output.Length > 0 && options.Debug) DebugOutput.Write(options, $"[anydef] {spec.Name} printed:\n{result.Output}");
        return (result, code.Code);
    }

    /// <summary>Runs many calls in one round trip; outcomes in input order, and the code that produced them.</summary>
    public async Task<(IReadOnlyList<Func<SandboxResult>> Outcomes, string Code)> CallBatchAsync(IReadOnlyList<string> packedArguments, CancellationToken cancellationToken)
    {
        if (packedArguments.Count == 0) return ([], "");
        var code = await GetCodeAsync(cancellationToken).ConfigureAwait(false);
        var outcomes = await _sandbox.CallBatchAsync(code.Code, spec.Name, packedArguments, options.Timeout, cancellationToken).ConfigureAwait(false);
        return (outcomes, code.Code);
    }

    /// <summary>Streams one outcome per input, in order, each timed on its own; the code is resolved once, first.</summary>
    public async IAsyncEnumerable<(Func<SandboxResult> Outcome, string Code)> StreamBatchAsync(IAsyncEnumerable<string> packedArguments,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var code = await GetCodeAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var o in _sandbox.CallBatchStreamAsync(code.Code, spec.Name, packedArguments, options.Timeout, cancellationToken).ConfigureAwait(false))
        {
            yield return (o, code.Code);
        }
    }
}
