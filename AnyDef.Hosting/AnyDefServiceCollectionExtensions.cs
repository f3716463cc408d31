using AnyDefNet;
using AnyDefNet.Hosting;
using AnyDefNet.Hosting.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers AnyDef in a service collection.</summary>
public static class AnyDefServiceCollectionExtensions
{
    internal const string ConfigurationMessage = "Binds the AnyDef configuration section to AnyDefOptions with ConfigurationBinder, which reads their properties by reflection. A trimmed or Native AOT app configures AnyDef with AnyDef.Configure(new AnyDefOptions { ... }) instead.";

    /// <summary>
    /// Adds AnyDef: options from the <c>AnyDef</c> configuration section (validated at start-up), the application's
    /// <c>IChatClient</c> (default or keyed), <c>ILoggerFactory</c> and <c>IMemoryCache</c>, a sandbox owned by the host,
    /// and a hosted service that warms it on start and ends its processes on stop.
    /// </summary>
    /// <param name="services">The application's services.</param>
    /// <param name="configure">Adjusts the options after configuration is bound (they are immutable: return a changed copy).</param>
    /// <returns>The same service collection.</returns>
    /// <remarks>Inject <see cref="AnyDefService"/> to declare functions; the static API follows the hosted options while the host runs.</remarks>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(ConfigurationMessage)]
    [System.Diagnostics.CodeAnalysis.RequiresDynamicCode(ConfigurationMessage)]
    public static IServiceCollection AddAnyDef(this IServiceCollection services, Func<AnyDefOptions, AnyDefOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<AnyDefHostingOptions>().BindConfiguration(AnyDefHostingOptions.SectionName);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AnyDefHostingOptions>, HostingOptionsValidator>());
        services.AddOptions<AnyDefHostingOptions>().ValidateOnStart();
        services.Replace(ServiceDescriptor.Singleton<IOptionsFactory<AnyDefOptions>>(sp => new AnyDefOptionsFactory(sp.GetService<IConfiguration>(), configure)));
        services.AddOptions<AnyDefOptions>().ValidateOnStart();
        services.TryAddSingleton(Create);
        services.AddHostedService<AnyDefHostedService>();
        return services;
    }

    private static AnyDefService Create(IServiceProvider sp)
    {
        var bound = sp.GetRequiredService<IOptions<AnyDefOptions>>().Value;
        var hosting = sp.GetRequiredService<IOptions<AnyDefHostingOptions>>().Value;
        var logger = sp.GetService<ILoggerFactory>()?.CreateLogger("AnyDef");
        var chatClient = bound.ChatClient
            ?? (hosting.ChatClientKey is { } key ? sp.GetRequiredKeyedService<IChatClient>(key) : sp.GetService<IChatClient>());
        MemoryCache? owned = null;
        var cache = bound.Cache ?? sp.GetService<IMemoryCache>() ?? (owned = new MemoryCache(new MemoryCacheOptions { SizeLimit = 10_000 }));
        var options = bound with
        {
            ChatClient = chatClient,
            Logger = bound.Logger ?? logger,
            Cache = cache,
            SandboxInstance = bound.SandboxInstance ?? new PythonSandbox(bound.Sandbox, logger),
            DistributedCache = bound.DistributedCache ?? (hosting.UseDistributedCache ? sp.GetRequiredService<IDistributedCache>() : null),
            GenerationLock = bound.GenerationLock ?? (hosting.UseDistributedCache ? sp.GetService<IGenerationLock>() : null),
        };
        if (hosting.UseDistributedCache && options.GenerationLock is null)
        {
            // Not an error (sharing code alone still saves requests after the first), but not what the setting promises.
            options.Logger?.LogWarning(
                "{Setting} is true, but no IGenerationLock is registered: instances share generated code, yet every instance that misses asks the model. " +
                "Register one so a fleet makes one model request per new function (for Redis: services.AddSingleton<IGenerationLock>(new RedisGenerationLock(connection)) from the AnyDef.Redis package).",
                AnyDefHostingOptions.SectionName + ":" + nameof(AnyDefHostingOptions.UseDistributedCache));
        }

        return new AnyDefService(options, owned);
    }

    private sealed class HostingOptionsValidator(IServiceProvider services) : IValidateOptions<AnyDefHostingOptions>
    {
        public ValidateOptionsResult Validate(string? name, AnyDefHostingOptions options)
        {
            var errors = new List<string>();
            const string prefix = AnyDefHostingOptions.SectionName + ":";
            if (options.ChatClientKey is { } key && services.GetKeyedService<IChatClient>(key) is null)
            {
                errors.Add($"{prefix}{nameof(AnyDefHostingOptions.ChatClientKey)} is '{key}', but no IChatClient is registered with that key. " +
                    "Register one with services.AddKeyedChatClient(key, ...) or remove the setting.");
            }

            if (options.UseDistributedCache && services.GetService<IDistributedCache>() is null)
            {
                errors.Add($"{prefix}{nameof(AnyDefHostingOptions.UseDistributedCache)} is true, but no IDistributedCache is registered. " +
                    "Register one (for Redis: services.AddStackExchangeRedisCache(...)) or turn the setting off.");
            }

            if (options.DegradedRecyclesPerMinute < 1) errors.Add($"{prefix}{nameof(AnyDefHostingOptions.DegradedRecyclesPerMinute)} must be at least 1.");
            return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
        }
    }
}
