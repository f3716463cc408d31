using AnyDefNet.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AnyDef's health check.</summary>
public static class AnyDefHealthChecksBuilderExtensions
{
    /// <summary>Adds <see cref="AnyDefHealthCheck"/>: a sandbox round trip, the store's readability and the process recycle rate.</summary>
    /// <param name="builder">The application's health checks.</param>
    /// <param name="name">The check's name.</param>
    /// <param name="tags">Tags to filter checks by (for example <c>ready</c>).</param>
    /// <returns>The same builder.</returns>
    /// <remarks>Needs <c>services.AddAnyDef()</c>.</remarks>
    public static IHealthChecksBuilder AddAnyDef(this IHealthChecksBuilder builder, string name = "anydef", IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddCheck<AnyDefHealthCheck>(name, HealthStatus.Unhealthy, tags ?? []);
    }
}
