using System.Text.Json;
using AnyDefNet.Packages;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet;

public sealed partial class PythonSandbox
{
    private Lazy<Task<IReadOnlyList<InstalledPackage>>>? _packages;

    /// <summary>The declared packages and their dependencies, verified and cached; fetched once per sandbox.</summary>
    /// <exception cref="PackageException">A package is unknown, cannot be fetched, or does not match its hash.</exception>
    internal async Task<IReadOnlyList<InstalledPackage>> GetPackagesAsync(CancellationToken cancellationToken)
    {
        if (Options.Packages.Count == 0) return [];
        var lazy = LazyInitializer.EnsureInitialized(ref _packages, () => new(async () =>
        {
            var (location, _) = await RuntimeAsync(CancellationToken.None).ConfigureAwait(false);
            return await PackageResolver.For(Options, location).ResolveAsync(Options.Packages, CancellationToken.None).ConfigureAwait(false);
        }));
        try
        {
            return await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Let a later call try again, after the index is reachable or the name is fixed.
            Interlocked.CompareExchange(ref _packages, null, lazy);
            throw;
        }
    }

    private string? _pythonVersion;

    /// <summary>The Python version of the pinned runtime (<c>3.14</c>), read from Pyodide's lock file once.</summary>
    internal async Task<string> GetPythonVersionAsync(CancellationToken cancellationToken)
    {
        if (_pythonVersion is { } known) return known;
        var (location, _) = await RuntimeAsync(cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(location.PyodideDirectory, "pyodide-lock.json"), cancellationToken).ConfigureAwait(false));
        var full = doc.RootElement.GetProperty("info").GetProperty("python").GetString() ?? "3";
        return _pythonVersion = string.Join('.', full.Split('.').Take(2));
    }

    /// <summary>The folder the process running this code reads its packages from, if one is running.</summary>
    internal string? PackageDirectoryOf(string code, string functionName) =>
        _functions.TryGetValue(FunctionKey(code, functionName), out var group) ? group.Primary?.Host.PackageDirectory : null;

    // Runs in the function's own process before its code: the packages load after the snapshot, from the host's folder.
    private async Task InstallPackagesAsync(HostProcess host)
    {
        var packages = await GetPackagesAsync(CancellationToken.None).ConfigureAwait(false);
        if (packages.Count == 0) return;
        var paths = host.ProvidePackages(packages);
        var request = new System.Text.Json.Nodes.JsonObject
        {
            ["files"] = new System.Text.Json.Nodes.JsonArray([.. packages.Select((p, i) => new System.Text.Json.Nodes.JsonObject { ["path"] = paths[i], ["pure"] = p.Pure })]),
            ["imports"] = new System.Text.Json.Nodes.JsonArray([.. packages.SelectMany(p => p.Imports).Distinct().Select(i => System.Text.Json.Nodes.JsonValue.Create(i))]),
            ["describe"] = string.Join(", ", packages.Select(p => $"{p.Name} {p.Version}")),
        }.ToJsonString();
        using var reply = await host.SendAsync("install", Options.StartTimeout, CancellationToken.None, args: request).ConfigureAwait(false);
        var root = reply.Ok ? reply.Payload.RootElement : default;
        if (!reply.Ok || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
        {
            var why = !reply.Ok ? reply.ErrorMessage
                : root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var message) ? message.ToString()
                : "the sandbox answered " + root.GetRawText();
            throw new PackageException($"Loading the packages {string.Join(", ", packages.Select(p => p.FileName))} into the sandbox failed: {why}");
        }
    }
}
