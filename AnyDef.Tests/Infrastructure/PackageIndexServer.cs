using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>A real package index on 127.0.0.1 serving the files of a folder, recording every file it was asked for.</summary>
public sealed class PackageIndexServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<string> _requests = new();

    private PackageIndexServer(WebApplication app) => _app = app;

    /// <summary>The index URL, ending in '/'.</summary>
    public string Url { get; private set; } = "";

    /// <summary>The file names requested, in order.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public static async Task<PackageIndexServer> StartAsync(string folder)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new PackageIndexServer(app);
        app.MapGet("/pyodide/{file}", (string file) =>
        {
            server._requests.Enqueue(file);
            var path = Path.Combine(folder, Path.GetFileName(file));
            return File.Exists(path) ? Results.File(path, "application/octet-stream") : Results.NotFound();
        });
        await app.StartAsync();
        server.Url = app.Urls.First() + "/pyodide/";
        return server;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
