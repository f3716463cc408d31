using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace AnyDefNet;

/// <summary>Settings of an AnyDef function. Immutable: change a copy with <c>with</c>.</summary>
public sealed record AnyDefOptions
{
    /// <summary>The default settings.</summary>
    public static AnyDefOptions Default { get; } = new();

    /// <summary>The model that writes the code.</summary>
    /// <value>The default is null: <c>ANYDEF_MODEL</c>, else a current small OpenAI model.</value>
    public string? Model { get; init; }

    /// <summary>The API key for the default OpenAI client.</summary>
    /// <value>The default is null: <c>OPENAI_API_KEY</c>.</value>
    public string? ApiKey { get; init; }

    /// <summary>The base URL of an OpenAI-compatible server (vLLM, Ollama, LM Studio, Azure).</summary>
    /// <value>The default is null: <c>OPENAI_BASE_URL</c>, else OpenAI.</value>
    public Uri? Endpoint { get; init; }

    /// <summary>Any chat client (Anthropic, Ollama, Azure, a decorated client); it replaces the default OpenAI client.</summary>
    public IChatClient? ChatClient { get; init; }

    /// <summary>How long one call of the function may run in the sandbox.</summary>
    /// <value>The default is 30 seconds. Positive and at most about 24.8 days, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>
    /// for no deadline (a call can still be cancelled).</value>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long one model request may take.</summary>
    /// <value>The default is 120 seconds. Positive and at most about 24.8 days, or <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>.</value>
    public TimeSpan ModelTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>How many times the default client retries a request that failed with HTTP 429 or 5xx or a network error.</summary>
    /// <value>The default is 3. Backoff is exponential and honours the server's Retry-After.</value>
    public int ModelRetries { get; init; } = 3;

    /// <summary>How many times the model is asked before generation fails.</summary>
    /// <value>The default is 3.</value>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The most tokens (input and output, all attempts) one generation may use: the repair loop stops with a
    /// <see cref="CodeGenerationException"/> before an attempt that would pass it (an attempt costs at least what the one
    /// before it did, since its prompt holds that one's).</summary>
    /// <value>The default is null: no limit beyond <see cref="MaxAttempts"/>.</value>
    public long? MaxGenerationTokens { get; init; }

    /// <summary>Whether to print the code (and where it came from) to <see cref="DebugWriter"/>.</summary>
    public bool Debug { get; init; }

    /// <summary>Where debug output goes.</summary>
    /// <value>The default is null: standard error.</value>
    public TextWriter? DebugWriter { get; init; }

    /// <summary>A folder of reviewed <c>.py</c> files, read before the model is asked and written after.</summary>
    /// <value>The default is null: <c>ANYDEF_STORE_DIR</c>, else no store.</value>
    public string? StoreDirectory { get; init; }

    /// <summary>Never call the model: a function missing from the store is an error.</summary>
    /// <value>The default is false (or true when <c>ANYDEF_FROZEN=1</c>).</value>
    public bool Frozen { get; init; }

    /// <summary>In frozen mode, also run stored code that is not marked reviewed (<c># reviewed: false</c>).</summary>
    /// <value>The default is false: frozen mode runs reviewed code only, and unreviewed code is an
    /// <see cref="UnreviewedCodeException"/>. Outside frozen mode stored code runs whether reviewed or not.</value>
    public bool AllowUnreviewed { get; init; }

    /// <summary>Where AnyDef logs what it does.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>The in-memory code cache.</summary>
    /// <value>The default is null: one cache shared by the whole process.</value>
    public IMemoryCache? Cache { get; init; }

    /// <summary>The sandbox settings; equal settings share one process pool.</summary>
    public SandboxOptions Sandbox { get; init; } = SandboxOptions.Default;

    /// <summary>Python packages this function may import, such as <c>["regex", "python-dateutil"]</c>; the prompt names them with their versions.</summary>
    /// <value>The default is none: the standard library only (plus any <see cref="SandboxOptions.Packages"/>).</value>
    /// <remarks>Declared packages join the spec, so declaring them regenerates the code. See <see cref="SandboxOptions.PackageIndex"/> for where they come from.</remarks>
    public PackageSet Packages { get; init; } = PackageSet.Empty;

    /// <summary>This function's packages and the sandbox's.</summary>
    internal PackageSet AllPackages => (Packages ?? PackageSet.Empty).Union(Sandbox.Packages ?? PackageSet.Empty);

    /// <summary>A sandbox the application owns (a host creates it and disposes it when it stops); it replaces the shared
    /// sandbox of <see cref="Sandbox"/>.</summary>
    /// <value>The default is null: the process-wide sandbox for <see cref="Sandbox"/>.</value>
    public PythonSandbox? SandboxInstance { get; init; }

    /// <summary>A cache shared by every instance of the application (Redis, SQL Server, ...): code one instance generated
    /// and checked is found there by the others. Read after the store, before the model; not read in frozen mode.</summary>
    /// <value>The default is null: no shared cache.</value>
    public IDistributedCache? DistributedCache { get; init; }

    /// <summary>A lock shared by every instance, taken around generation, so one instance asks the model and the others
    /// wait for its result in <see cref="DistributedCache"/>.</summary>
    /// <value>The default is null: each instance that misses generates on its own.</value>
    public IGenerationLock? GenerationLock { get; init; }

    /// <summary>How long the generation lock outlives an instance that died holding it; the holder renews it while it works.</summary>
    /// <value>The default is 15 seconds; from 1 second to 1 day. The holder renews the lock at a third of it, and a waiter
    /// wakes at the latest when it ends.</value>
    public TimeSpan GenerationLockExpiry { get; init; } = TimeSpan.FromSeconds(15);

    internal static readonly TimeSpan MinGenerationLockExpiry = TimeSpan.FromSeconds(1);

    internal static readonly TimeSpan MaxGenerationLockExpiry = TimeSpan.FromDays(1);

    internal PythonSandbox EffectiveSandbox => SandboxInstance ?? PythonSandbox.GetShared(Sandbox);

    internal string? EffectiveStoreDirectory => StoreDirectory ?? (Environment.GetEnvironmentVariable("ANYDEF_STORE_DIR") is { Length: > 0 } d ? d : null);

    internal bool EffectiveFrozen => Frozen || Environment.GetEnvironmentVariable("ANYDEF_FROZEN") is "1" or "true";

    internal void Validate()
    {
        var errors = Errors("");
        if (errors.Count > 0) throw new ArgumentOutOfRangeException(null, "Invalid AnyDef options: " + string.Join(" ", errors));
    }

    /// <summary>Every problem with these settings, each naming its setting after <paramref name="prefix"/> (a configuration path).</summary>
    internal List<string> Errors(string prefix)
    {
        var errors = new List<string>();
        if (Internal.Timeouts.Check(Timeout, prefix + nameof(Timeout)) is { } timeout) errors.Add(timeout);
        if (Internal.Timeouts.Check(ModelTimeout, prefix + nameof(ModelTimeout)) is { } modelTimeout) errors.Add(modelTimeout);
        if (MaxAttempts < 1) errors.Add($"{prefix}{nameof(MaxAttempts)} must be at least 1.");
        if (GenerationLockExpiry < MinGenerationLockExpiry || GenerationLockExpiry > MaxGenerationLockExpiry)
        {
            errors.Add($"{prefix}{nameof(GenerationLockExpiry)} must be between {MinGenerationLockExpiry} and {MaxGenerationLockExpiry} (was {GenerationLockExpiry}).");
        }

        if (MaxGenerationTokens is < 1) errors.Add($"{prefix}{nameof(MaxGenerationTokens)} must be at least 1 when set.");
        if (ModelRetries < 0) errors.Add($"{prefix}{nameof(ModelRetries)} must not be negative.");
        if (Packages is null) errors.Add($"{prefix}{nameof(Packages)} must not be null (use {nameof(PackageSet)}.{nameof(PackageSet.Empty)}).");
        return errors;
    }
}
