using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace AnyDefNet.Hosting;

/// <summary>
/// Healthy when a sandbox round trip answers and the store can be read; degraded while the sandbox replaces processes
/// faster than <see cref="AnyDefHostingOptions.DegradedRecyclesPerMinute"/>; unhealthy when the sandbox does not answer or
/// the store cannot be read.
/// </summary>
/// <remarks>The round trip runs a one-line function, which keeps one sandbox process of its own.</remarks>
public sealed class AnyDefHealthCheck(AnyDefService service, IOptions<AnyDefHostingOptions> hosting) : IHealthCheck
{
    private const string Probe = "def anydef_health():\n    return 1\n";

    /// <summary>Runs the checks.</summary>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var result = await service.Sandbox.RunAsync(Probe, "anydef_health", timeout: TimeSpan.FromSeconds(10), cancellationToken: cancellationToken).ConfigureAwait(false);
            if (result.ResultJson != "1") return HealthCheckResult.Unhealthy($"The sandbox answered {result.ResultJson} instead of 1.", data: data);
            data["sandbox_round_trip_ms"] = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        catch (AnyDefException ex)
        {
            return HealthCheckResult.Unhealthy("The sandbox did not answer a round trip: " + ex.Message, ex, data);
        }

        if (StoreProblem(service.Options) is { } problem) return HealthCheckResult.Unhealthy(problem, data: data);

        var recycled = service.Sandbox.ReplacementsWithin(TimeSpan.FromMinutes(1));
        data["sandbox_processes_replaced_last_minute"] = recycled;
        var limit = hosting.Value.DegradedRecyclesPerMinute;
        return recycled > limit
            ? HealthCheckResult.Degraded(string.Create(CultureInfo.InvariantCulture,
                $"The sandbox replaced {recycled} processes in the last minute (more than {AnyDefHostingOptions.SectionName}:{nameof(AnyDefHostingOptions.DegradedRecyclesPerMinute)} = {limit}): calls are timing out, crashing or running out of memory, or more functions are in use than Sandbox:MaxProcesses keeps."), data: data)
            : HealthCheckResult.Healthy("The sandbox answers and the store is readable.", data);
    }

    private static string? StoreProblem(AnyDefOptions options)
    {
        if (options.EffectiveStoreDirectory is not { } dir) return null;
        const string setting = AnyDefHostingOptions.SectionName + ":" + nameof(AnyDefOptions.StoreDirectory);
        try
        {
            if (!Directory.Exists(dir))
            {
                if (File.Exists(dir)) return $"The store '{dir}' ({setting}) is a file, not a folder.";
                return options.EffectiveFrozen ? $"The store '{dir}' ({setting}) does not exist, and frozen mode reads only from it." : null;
            }

            foreach (var file in Directory.EnumerateFiles(dir, "*.py").Take(1))
            {
                using var stream = File.OpenRead(file);
                _ = stream.ReadByte();
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"The store '{dir}' ({setting}) cannot be read: {ex.Message}";
        }
    }
}
