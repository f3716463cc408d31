using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace AnyDefNet.Hosting.Internal;

/// <summary>
/// Puts the hosted configuration behind the static API while the host runs, warms the sandbox on start, and ends every
/// sandbox process on stop (SIGTERM and <c>StopAsync</c> both end here).
/// </summary>
internal sealed class AnyDefHostedService(AnyDefService service, IOptions<AnyDefHostingOptions> hosting, ILoggerFactory loggerFactory) : IHostedService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("AnyDef");
    private AnyDefOptions? _previous;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (hosting.Value.ConfigureStaticApi)
        {
            _previous = AnyDef.CurrentOptions;
            AnyDef.Configure(service.Options);
        }

        if (hosting.Value.WarmUpOnStart)
        {
            await service.Sandbox.WarmUpAsync(cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("AnyDef sandbox is warm");
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // Another host (or the application) may have configured AnyDef since; only our own configuration is taken back.
        if (_previous is not null && ReferenceEquals(AnyDef.CurrentOptions, service.Options)) AnyDef.Configure(_previous);
        await service.Sandbox.DisposeAsync().ConfigureAwait(false);
        _logger.LogInformation("AnyDef sandbox processes ended");
    }
}
