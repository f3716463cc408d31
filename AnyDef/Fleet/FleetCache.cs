using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnyDefNet.Generation;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Internal;

/// <summary>
/// The level shared by a fleet: code in <see cref="AnyDefOptions.DistributedCache"/>, and generation under
/// <see cref="AnyDefOptions.GenerationLock"/> so one instance asks the model while the others wait for its result.
/// </summary>
/// <remarks>
/// A broken shared cache or lock (a timeout, a lost connection, a stalled server, a lost lock) costs a model request,
/// never the call: the instance then generates on its own. A failed generation is shared for a short time, so waiters
/// fail with it instead of each asking the model again. Entries are kept per package set, and an entry is used only
/// when the package versions it records are the ones this instance runs.
/// </remarks>
internal static class FleetCache
{
    // Bump to ignore every entry written by an older layout.
    private const string Version = "v2";
    private static readonly DistributedCacheEntryOptions s_entry = new() { SlidingExpiration = TimeSpan.FromDays(30) };

    /// <summary>How long a failed generation is shared with the other instances before one of them may try again.</summary>
    internal static readonly TimeSpan FailureShared = TimeSpan.FromSeconds(30);

    private static readonly DistributedCacheEntryOptions s_failure = new() { AbsoluteExpirationRelativeToNow = FailureShared };

    private static string Scope(FunctionSpec spec, string? packages) => packages is null
        ? spec.Hash
        : $"{spec.Hash}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(packages)))[..16].ToLowerInvariant()}";

    public static string CodeKey(FunctionSpec spec, string? packages) => $"anydef:{Version}:code:{Scope(spec, packages)}";

    public static string LockKey(FunctionSpec spec, string? packages) => $"anydef:{Version}:lock:{Scope(spec, packages)}";

    public static string FailureKey(FunctionSpec spec, string? packages) => $"anydef:{Version}:failed:{Scope(spec, packages)}";

    /// <summary>How long a waiter waits for the holder: every attempt it is allowed, and the lock's expiry twice; with no
    /// deadline on the model or the call, no limit.</summary>
    internal static TimeSpan Patience(AnyDefOptions options)
    {
        if (Timeouts.IsInfinite(options.ModelTimeout) || Timeouts.IsInfinite(options.Timeout)) return Timeout.InfiniteTimeSpan;
        var seconds = (options.ModelTimeout.TotalSeconds + options.Timeout.TotalSeconds) * options.MaxAttempts + options.GenerationLockExpiry.TotalSeconds * 2;
        return seconds >= Timeouts.Max.TotalSeconds ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
    }

    public static async Task<GeneratedCode> GetOrGenerateAsync(FunctionSpec spec, AnyDefOptions options, string? packages, ILogger logger, Func<Task<GeneratedCode>> generate)
    {
        var cache = options.DistributedCache!;
        var key = CodeKey(spec, packages);
        var lockKey = LockKey(spec, packages);
        var patience = Patience(options);
        var started = Stopwatch.GetTimestamp();
        var waiting = false;
        while (true)
        {
            if (await ReadAsync(cache, key, spec, packages, logger).ConfigureAwait(false) is { } found) return found;
            await ThrowIfFailedAsync(cache, spec, packages, logger).ConfigureAwait(false);
            if (options.GenerationLock is not { } gate) return await GenerateAndShareAsync(cache, spec, packages, logger, generate).ConfigureAwait(false);

            IAsyncDisposable? held;
            try
            {
                held = await gate.TryAcquireAsync(lockKey, options.GenerationLockExpiry).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not AnyDefException)
            {
                logger.LogWarning(ex, "The generation lock for {Function} could not be taken; generating without it", spec.Name);
                return await GenerateAndShareAsync(cache, spec, packages, logger, generate).ConfigureAwait(false);
            }

            if (held is not null) return await GenerateHoldingAsync(held, cache, key, spec, packages, logger, generate).ConfigureAwait(false);

            if (!waiting)
            {
                logger.LogInformation("Another instance is generating {Function}; waiting for its result", spec.Name);
                waiting = true;
            }

            var waited = Stopwatch.GetElapsedTime(started);
            if (patience != Timeout.InfiniteTimeSpan && waited > patience)
            {
                throw new AnyDefException($"Another instance has held the generation lock of '{spec.Name}' for over {patience.TotalSeconds:0} s and shared no code. " +
                    $"Check that instance, or lower {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.GenerationLockExpiry)}; the lock is '{lockKey}'.");
            }

            var wait = options.GenerationLockExpiry;
            if (patience != Timeout.InfiniteTimeSpan && patience - waited < wait) wait = patience - waited + TimeSpan.FromMilliseconds(1);
            try
            {
                await gate.WaitAsync(lockKey, wait).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // The next round takes the lock or finds it broken, and generates either way.
                logger.LogDebug(ex, "Waiting for the generation lock of {Function} failed", spec.Name);
                await Task.Delay(TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
            }
        }
    }

    private static async Task<GeneratedCode> GenerateHoldingAsync(IAsyncDisposable held, IDistributedCache cache, string key, FunctionSpec spec, string? packages, ILogger logger,
        Func<Task<GeneratedCode>> generate)
    {
        var lost = held is IGenerationLockHandle handle
            ? handle.Lost.Register(() => logger.LogWarning(
                "The generation lock of {Function} was lost (it could not be renewed before it expired); another instance may generate it too", spec.Name))
            : default;
        try
        {
            // Another instance may have finished between our read and our lock.
            if (await ReadAsync(cache, key, spec, packages, logger).ConfigureAwait(false) is { } late) return late;
            return await GenerateAndShareAsync(cache, spec, packages, logger, generate).ConfigureAwait(false);
        }
        finally
        {
            await lost.DisposeAsync().ConfigureAwait(false);
            try
            {
                await held.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "The generation lock of {Function} could not be released; it expires by itself", spec.Name);
            }
        }
    }

    private static async Task<GeneratedCode?> ReadAsync(IDistributedCache cache, string key, FunctionSpec spec, string? packages, ILogger logger)
    {
        byte[]? bytes;
        try
        {
            bytes = await cache.GetAsync(key).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The shared cache could not be read for {Function}", spec.Name);
            return null;
        }

        if (bytes is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            var recorded = root.TryGetProperty("packages", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            if (!string.Equals(recorded, packages, StringComparison.Ordinal))
            {
                // The check the store makes: code generated against other package versions is not run here.
                logger.LogWarning("The shared cache entry {Key} of {Function} was generated for packages {Recorded}, but this instance runs {Packages}; generating instead",
                    key, spec.Name, recorded ?? "(none recorded)", packages ?? "(none)");
                return null;
            }

            var usage = root.TryGetProperty("input", out var i) && i.ValueKind == JsonValueKind.Number && root.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.Number
                ? new TokenUsage(i.GetInt64(), o.GetInt64())
                : null;
            return new GeneratedCode(root.GetProperty("code").GetString()!, "distributed", root.TryGetProperty("model", out var m) ? m.GetString() : null, null) { Usage = usage };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            logger.LogWarning(ex, "The shared cache entry {Key} of {Function} is unreadable; it will be replaced", key, spec.Name);
            return null;
        }
    }

    private static async Task<GeneratedCode> GenerateAndShareAsync(IDistributedCache cache, FunctionSpec spec, string? packages, ILogger logger, Func<Task<GeneratedCode>> generate)
    {
        GeneratedCode code;
        try
        {
            code = await generate().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is CodeGenerationException or ModelException)
        {
            await ShareFailureAsync(cache, spec, packages, logger, ex).ConfigureAwait(false);
            throw;
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["function"] = spec.Name,
            ["code"] = code.Code,
            ["model"] = code.Model,
            ["packages"] = packages,
            ["input"] = code.Usage?.InputTokens,
            ["output"] = code.Usage?.OutputTokens,
        }, LibraryJson.Default.DictionaryStringObject);
        try
        {
            await cache.SetAsync(CodeKey(spec, packages), bytes, s_entry).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The code of {Function} could not be written to the shared cache; other instances will generate it again", spec.Name);
        }

        return code;
    }

    private static async Task ShareFailureAsync(IDistributedCache cache, FunctionSpec spec, string? packages, ILogger logger, Exception failure)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["kind"] = failure is ModelException ? "model" : "code",
            ["message"] = failure.Message,
            ["model"] = (failure as ModelException)?.Model,
            ["status"] = (failure as ModelException)?.StatusCode,
        }, LibraryJson.Default.DictionaryStringObject);
        try
        {
            await cache.SetAsync(FailureKey(spec, packages), bytes, s_failure).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The failed generation of {Function} could not be shared; other instances will try again", spec.Name);
        }
    }

    private static async Task ThrowIfFailedAsync(IDistributedCache cache, FunctionSpec spec, string? packages, ILogger logger)
    {
        byte[]? bytes;
        try
        {
            bytes = await cache.GetAsync(FailureKey(spec, packages)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogDebug(ex, "The shared cache could not be read for a failed generation of {Function}", spec.Name);
            return;
        }

        if (bytes is null) return;
        string kind, message;
        string? model;
        int? status;
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            var root = doc.RootElement;
            kind = root.GetProperty("kind").GetString()!;
            message = root.GetProperty("message").GetString()!;
            model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
            status = root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : null;
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            return;
        }

        var text = $"Another instance failed to generate '{spec.Name}' moments ago, and the fleet does not ask the model again for {FailureShared.TotalSeconds:0} s: {message}";
        logger.LogWarning("{Message}", text);
        if (kind == "model") throw new ModelException(text, model, status);
        throw new CodeGenerationException(text, spec.Name, []);
    }
}
