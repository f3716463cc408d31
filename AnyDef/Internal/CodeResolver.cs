using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using AnyDefNet.Generation;
using AnyDefNet.Telemetry;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnyDefNet.Internal;

/// <summary>
/// Finds the code of a spec: memory, then the store, then the model. Concurrent misses of one spec share one
/// generation; a failed or cancelled generation is never cached or stored.
/// </summary>
internal static class CodeResolver
{
    private static readonly MemoryCache s_cache = new(new MemoryCacheOptions { SizeLimit = 10_000 });
    private static readonly ConcurrentDictionary<(IMemoryCache, string), Lazy<Task<GeneratedCode>>> s_inFlight = new();

    public static async Task<GeneratedCode> ResolveAsync(FunctionSpec spec, SpecChecks checks, AnyDefOptions options, PythonSandbox sandbox, CancellationToken cancellationToken,
        Assembly? embeddedStore = null)
    {
        using var activity = Instruments.Source.StartActivity(AnyDefTelemetry.ResolveSpan);
        activity?.SetTag("anydef.function", spec.Name);
        activity?.SetTag("anydef.spec_hash", spec.Hash);
        try
        {
            var code = await ResolveCoreAsync(spec, checks, options, sandbox, embeddedStore, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("anydef.code.source", code.Source);
            return code;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            activity?.SetTag("error.type", ex.GetType().FullName);
            throw;
        }
    }

    private static async Task<GeneratedCode> ResolveCoreAsync(FunctionSpec spec, SpecChecks checks, AnyDefOptions options, PythonSandbox sandbox, Assembly? embeddedStore,
        CancellationToken cancellationToken)
    {
        var cache = options.Cache ?? s_cache;
        if (cache.TryGetValue(spec.Hash, out GeneratedCode? cached) && cached is not null && (cached.Reviewed || !options.EffectiveFrozen || options.AllowUnreviewed))
        {
            return cached with { Source = "memory" };
        }

        var key = (cache, $"{spec.Hash}|{options.EffectiveStoreDirectory}|{options.EffectiveFrozen}");
        var lazy = s_inFlight.GetOrAdd(key, _ => new Lazy<Task<GeneratedCode>>(() => LoadOrGenerateAsync(spec, checks, options, sandbox, cache, embeddedStore)));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (lazy.Value.IsCompleted) s_inFlight.TryRemove(new(key, lazy));
        }
    }

    // Runs without any caller's token: other callers may be waiting on the same generation.
    private static async Task<GeneratedCode> LoadOrGenerateAsync(FunctionSpec spec, SpecChecks checks, AnyDefOptions options, PythonSandbox sandbox, IMemoryCache cache,
        Assembly? embeddedStore)
    {
        var logger = options.Logger ?? NullLogger.Instance;
        var store = options.EffectiveStoreDirectory is { } dir ? new DirectoryCodeStore(dir) : null;
        GeneratedCode result;
        var packages = spec.Packages.Count == 0 ? null : Packages.InstalledPackage.RecordOf(await sandbox.GetPackagesAsync(CancellationToken.None).ConfigureAwait(false));
        if (store is not null && await store.ReadAsync(spec).ConfigureAwait(false) is { } stored)
        {
            // Code reviewed against other package versions may behave differently now: say so instead of running it.
            if (packages is not null && !string.Equals(stored.Packages, packages, StringComparison.Ordinal))
            {
                throw new PackageMismatchException(stored.Path, stored.Packages ?? "(none recorded)", packages);
            }

            if (options.EffectiveFrozen && !stored.Reviewed && !options.AllowUnreviewed) throw new UnreviewedCodeException(spec.Name, stored.Path);
            logger.LogDebug("Code for {Function} read from {Path}", spec.Name, stored.Path);
            result = new GeneratedCode(stored.Code, "store", stored.Source, stored.Path) { Usage = stored.Usage, Reviewed = stored.Reviewed };
        }
        else if (embeddedStore is not null && EmbeddedCodeStore.Read(embeddedStore, spec) is { } embedded)
        {
            if (options.EffectiveFrozen && !embedded.Reviewed && !options.AllowUnreviewed) throw new UnreviewedCodeException(spec.Name, embedded.Path);
            logger.LogDebug("Code for {Function} read from {Path}", spec.Name, embedded.Path);
            result = new GeneratedCode(embedded.Code, "store", embedded.Source, embedded.Path) { Reviewed = embedded.Reviewed };
        }
        else if (options.EffectiveFrozen)
        {
            throw new FunctionNotStoredException(spec.Name, spec.Hash, store?.PathFor(spec));
        }
        else if (options.DistributedCache is not null)
        {
            result = await FleetCache.GetOrGenerateAsync(spec, options, packages, logger, () => GenerateAsync(spec, checks, options, sandbox, store, packages, logger)).ConfigureAwait(false);
        }
        else
        {
            result = await GenerateAsync(spec, checks, options, sandbox, store, packages, logger).ConfigureAwait(false);
        }

        cache.Set(spec.Hash, result, new MemoryCacheEntryOptions { Size = 1 });
        return result;
    }

    private static async Task<GeneratedCode> GenerateAsync(FunctionSpec spec, SpecChecks checks, AnyDefOptions options, PythonSandbox sandbox, DirectoryCodeStore? store, string? packages, ILogger logger)
    {
        var model = ChatClients.ResolveModel(options);
        var client = options.ChatClient ?? ChatClients.Create(options, model);
        logger.LogInformation("Generating {Function} with model {Model}", spec.Name, model);
        var (code, usage) = await new CodeGenerator(client, model, sandbox, options.Timeout, logger)
            .GenerateAsync(spec, checks, options.MaxAttempts, options.ModelTimeout, CancellationToken.None, options.MaxGenerationTokens).ConfigureAwait(false);
        var path = store is null ? null : await store.WriteAsync(spec, code, $"generated by model {model}", packages, usage).ConfigureAwait(false);
        return new GeneratedCode(code, "model", model, path) { Usage = usage };
    }
}
