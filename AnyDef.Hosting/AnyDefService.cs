namespace AnyDefNet.Hosting;

/// <summary>
/// AnyDef as a service of the host: the options it resolved from configuration and the application's services, the
/// sandbox it owns, and the way to declare functions that run with them. Inject it where code prefers injection to the
/// static <see cref="AnyDef"/> API.
/// </summary>
/// <remarks>Created by <c>AddAnyDef</c>; the host disposes it (and with it every sandbox process) when it stops.</remarks>
public sealed class AnyDefService : IAsyncDisposable, IDisposable
{
    private readonly IDisposable? _ownedCache;

    internal AnyDefService(AnyDefOptions options, IDisposable? ownedCache)
    {
        Options = options;
        _ownedCache = ownedCache;
    }

    /// <summary>The options every function declared through this service runs with, including the sandbox it owns.</summary>
    public AnyDefOptions Options { get; }

    /// <summary>The sandbox this service owns; its processes end when the host stops.</summary>
    public PythonSandbox Sandbox => Options.SandboxInstance!;

    /// <summary>Declares a function that runs with <see cref="Options"/>.</summary>
    /// <param name="name">The Python function name (letters, digits, underscores).</param>
    /// <param name="description">What the function does; the docstring the model implements.</param>
    /// <param name="examples">Inputs with their expected results, checked before generated code is used.</param>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(AnyDefNet.Internal.Json.ReflectionMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(AnyDefNet.Internal.Json.ReflectionMessage)]
    public AnyDefFunction<TArgs, TResult> Function<TArgs, TResult>(string name, string description, IEnumerable<(TArgs Args, TResult Expected)>? examples = null) =>
        AnyDef.Function(name, description, Options, examples);

    /// <summary>Declares a function by a Python signature line and a docstring; it runs with <see cref="Options"/>.</summary>
    /// <param name="signature">For example <c>def slugify(text: str) -> str</c>.</param>
    /// <param name="docstring">What the function does; doctest examples in it are checked.</param>
    public AnyDefDynamicFunction FromSignature(string signature, string docstring) => AnyDef.FromSignature(signature, docstring, Options);

    /// <summary>Ends every sandbox process of this service.</summary>
    public async ValueTask DisposeAsync()
    {
        await Sandbox.DisposeAsync().ConfigureAwait(false);
        _ownedCache?.Dispose();
    }

    /// <summary>Ends every sandbox process of this service (for containers disposed synchronously).</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
