using AnyDefNet.AspNetCore;
using AnyDefNet.AspNetCore.Internal;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds AnyDef's tools to a Model Context Protocol server.</summary>
public static class AnyDefMcpServerBuilderExtensions
{
    /// <summary>
    /// Serves AnyDef's tools from this MCP server: <c>run_python</c> (with sessions), the reviewed functions of a store folder,
    /// and declared functions, the same tools as <c>anydef mcp</c>. With <c>WithHttpTransport()</c> and <c>app.MapMcp()</c>,
    /// an ASP.NET Core app serves them over HTTP.
    /// </summary>
    /// <param name="builder">The MCP server builder (<c>services.AddMcpServer()</c>).</param>
    /// <param name="configure">Sets what is served; called once, here.</param>
    /// <returns>The same builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddMcpServer().WithHttpTransport().WithAnyDefTools(o => o.Store = "anydef-store");
    /// var app = builder.Build();
    /// app.MapMcp("/mcp");
    /// </code>
    /// </example>
    public static IMcpServerBuilder WithAnyDefTools(this IMcpServerBuilder builder, Action<AnyDefMcpOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new AnyDefMcpOptions();
        configure?.Invoke(options);
        if (!options.RunPython && options.Store is null && options.Functions.Count == 0)
            throw new ArgumentException("There is nothing to serve: set Store, add Functions, or leave RunPython on.", nameof(configure));
        builder.Services.TryAddSingleton(sp => new AnyDefMcpTools(options, sp.GetService<ILoggerFactory>()));
        builder.Services.AddOptions<McpServerOptions>().Configure<AnyDefMcpTools>((server, tools) =>
        {
            server.ToolCollection ??= [];
            foreach (var tool in tools.Tools) server.ToolCollection.Add(tool);
        });
        return builder;
    }
}
