using System.Diagnostics;
using System.Text.Json;
using AnyDefNet.Generation;
using AnyDefNet.Internal;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Internal;

/// <summary>
/// The level shared by a fleet: code in <see cref="AnyDefOptions.DistributedCache"/>, and generation under
/// <see cref="AnyDefOptions.GenerationLock"/> so one instance asks the model while the others wait for its result.
/// </summary>
/// <remarks>A broken shared cache or lock costs a model request, never the call: the instance then generates on its own.</remarks>
internal static class FleetCache
{
    // Bump to ignore every entry written by an older layout.
    private const string Version = "v1";
    private static readonly TimeSpan s_poll = TimeSpan.FromMilliseconds(200);
    private static readonly DistributedCacheEntryOptions s_entry = new() { SlidingExpiration = TimeSpan.FromDays(30) };

    public static string CodeKey(FunctionSpec spec) => $"anydef:{Version}:code:{spec.Hash}";

    public static string LockKey(FunctionSpec spec) => $"anydef:{Version}:lock:{spec.Hash}";

    public static async Task<GeneratedCode> GetOrGenerateAsync(FunctionSpec spec, AnyDefOptions options, ILogger logger, Func<Task<GeneratedCode>> generate)
    {
        var cache = options.DistributedCache!;
        var key = CodeKey(spec);
        // The holder may take every attempt it is allowed; past that (and the lock's expiry) something is wrong.
        var patience = (options.ModelTimeout + options.Timeout) * options.MaxAttempts + options.GenerationLockExpiry * 2;
        var started = Stopwatch.GetTimestamp();
        var waiting = false;
        while (true)
        {
            if (await ReadAsync(cache, key, spec, logger).ConfigureAwait(false) is { } found) return found;
            if (options.GenerationLock is not { } gate) return await ShareAsync(cache, key, spec, logger, await generate().ConfigureAwait(false)).ConfigureAwait(false);

            IAsyncDisposable? held;
            try
            {
                held = await gate.TryAcquireAsync(LockKey(spec), options.GenerationLockExpiry).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not AnyDefException)
            {
                logger.LogWarning(ex, "The generation lock for {Function} could not be taken; generating without it", spec.Name);
                return await ShareAsync(cache, key, spec, logger, await generate().ConfigureAwait(false)).ConfigureAwait(false);
            }

            if (held is not null)
            {
                await using (held.ConfigureAwait(false))
                {
                    // Another instance may have finished between our read and our lock.
                    if (await ReadAsync(cache, key, spec, logger).ConfigureAwait(false) is { } late) return late;
                    return await ShareAsync(cache, key, spec, logger, await generate().ConfigureAwait(false)).ConfigureAwait(false);
                }
            }

            if (!waiting)
            {
                logger.LogInformation("Another instance is generating {Function}; waiting for its result", spec.Name);
                waiting = true;
            }

            if (Stopwatch.GetElapsedTime(started) > patience)
            {
                throw new AnyDefException($"Another instance has held the generation lock of '{spec.Name}' for over {patience.TotalSeconds:0} s and shared no code. " +
                    $"Check that instance, or lower {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.GenerationLockExpiry)}; the lock is '{LockKey(spec)}'.");
            }

            await Task.Delay(s_poll).ConfigureAwait(false);
        }
    }

    private static async Task<GeneratedCode?> ReadAsync(IDistributedCache cache, string key, FunctionSpec spec, ILogger logger)
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
            var usage = root.TryGetProperty("input", out var i) && root.TryGetProperty("output", out var o) ? new TokenUsage(i.GetInt64(), o.GetInt64()) : null;
            return new GeneratedCode(root.GetProperty("code").GetString()!, "distributed", root.TryGetProperty("model", out var m) ? m.GetString() : null, null) { Usage = usage };
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            logger.LogWarning(ex, "The shared cache entry {Key} of {Function} is unreadable; it will be replaced", key, spec.Name);
            return null;
        }
    }

    private static async Task<GeneratedCode> ShareAsync(IDistributedCache cache, string key, FunctionSpec spec, ILogger logger, GeneratedCode code)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object?>
        {
            ["function"] = spec.Name,
            ["code"] = code.Code,
            ["model"] = code.Model,
            ["input"] = code.Usage?.InputTokens,
            ["output"] = code.Usage?.OutputTokens,
        }, LibraryJson.Default.DictionaryStringObject);
        try
        {
            await cache.SetAsync(key, bytes, s_entry).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "The code of {Function} could not be written to the shared cache; other instances will generate it again", spec.Name);
        }

        return code;
    }
}
