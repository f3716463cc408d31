using System.Reflection;
using System.Runtime.CompilerServices;
using AnyDefNet.Generation;

namespace AnyDefNet.Internal;

/// <summary>
/// What every declared function does whatever its argument types: resolve its code once (memory, store, model),
/// run it in the sandbox, and show debug output. The typed and the JSON functions differ only in packing and results.
/// </summary>
/// <remarks>
/// A function declared without options follows <see cref="AnyDef.Configure"/>: its options are read at each call, so a
/// function declared before the application configured AnyDef (or before its host started) uses that configuration.
/// </remarks>
internal sealed class FunctionRuntime(FunctionSpec spec, SpecChecks checks, AnyDefOptions? explicitOptions)
{
    private readonly Func<AnyDefOptions>? _optionsSource;
    private readonly Assembly? _embeddedStore = Assembly.GetEntryAssembly();
    private State? _state;

    /// <summary>A function whose options come from <paramref name="optionsSource"/> at each call (an [AnyDef] method: the
    /// application's configuration, else its attributes) and whose code may be embedded in <paramref name="embeddedStore"/>.</summary>
    public FunctionRuntime(FunctionSpec spec, SpecChecks checks, Func<AnyDefOptions> optionsSource, Assembly embeddedStore)
        : this(spec, checks, (AnyDefOptions?)null)
    {
        _optionsSource = optionsSource;
        _embeddedStore = embeddedStore;
    }

    /// <summary>The options the next call runs with.</summary>
    public AnyDefOptions Options => explicitOptions ?? _optionsSource?.Invoke() ?? AnyDef.CurrentOptions;

    public async Task<GeneratedCode> GetCodeAsync(CancellationToken cancellationToken) =>
        (await ResolveAsync(cancellationToken).ConfigureAwait(false)).Code!;

    /// <summary>Runs one call with packed arguments; returns the result and the code that produced it.</summary>
    public async Task<(SandboxResult Result, string Code)> CallAsync(string packedArguments, CancellationToken cancellationToken)
    {
        var state = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var options = state.Options;
        var code = state.Code!.Code;
        var result = await state.Sandbox.CallAsync(code, spec.Name, packedArguments, options.Timeout, cancellationToken).ConfigureAwait(false);
        if (result.Output.Length > 0 && options.Debug) DebugOutput.Write(options, $"[anydef] {spec.Name} printed:\n{result.Output}");
        return (result, code);
    }

    /// <summary>Runs many calls, sent together; outcomes in input order, and the code that produced them.</summary>
    public async Task<(IReadOnlyList<SandboxOutcome> Outcomes, string Code)> CallBatchAsync(IReadOnlyList<string> packedArguments, CancellationToken cancellationToken)
    {
        if (packedArguments.Count == 0) return ([], "");
        var state = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var code = state.Code!.Code;
        var outcomes = await state.Sandbox.CallBatchAsync(code, spec.Name, packedArguments, state.Options.Timeout, cancellationToken).ConfigureAwait(false);
        return (outcomes, code);
    }

    // The code is resolved once per options instance: configuring AnyDef anew (another store, frozen mode) resolves again.
    private async ValueTask<State> ResolveAsync(CancellationToken cancellationToken)
    {
        var options = Options;
        var state = _state;
        if (state is { Code: not null } && ReferenceEquals(state.Options, options)) return state;
        if (state is null || !ReferenceEquals(state.Options, options)) state = new State(options, SandboxFor(options), null);

        var code = await CodeResolver.ResolveAsync(spec, checks, options, state.Sandbox, cancellationToken, _embeddedStore).ConfigureAwait(false);
        var resolved = state with { Code = code };
        var previous = Interlocked.Exchange(ref _state, resolved);
        if (options.Debug && !(previous is { Code: not null } && ReferenceEquals(previous.Options, options))) DebugOutput.Code(options, spec.Name, code);
        return resolved;
    }

    // A function with packages runs in the sandbox of exactly that package set (its processes can read those files).
    private PythonSandbox SandboxFor(AnyDefOptions options) =>
        spec.Packages.Count == 0 ? options.EffectiveSandbox
            : PythonSandbox.GetShared((options.SandboxInstance?.Options ?? options.Sandbox) with { Packages = spec.Packages });

    private sealed record State(AnyDefOptions Options, PythonSandbox Sandbox, GeneratedCode? Code);

    /// <summary>Streams one outcome per input, in order, each timed on its own; the code is resolved once, first.</summary>
    public async IAsyncEnumerable<(SandboxOutcome Outcome, string Code)> StreamBatchAsync(IAsyncEnumerable<string> packedArguments,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var state = await ResolveAsync(cancellationToken).ConfigureAwait(false);
        var code = state.Code!.Code;
        await foreach (var o in state.Sandbox.CallBatchStreamAsync(code, spec.Name, packedArguments, state.Options.Timeout, cancellationToken).ConfigureAwait(false))
        {
            yield return (o, code);
        }
    }
}
