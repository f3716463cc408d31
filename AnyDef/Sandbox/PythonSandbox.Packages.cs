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
    // The process checks each file's SHA-256 on the bytes it loads; a file changed on disk since this run verified it is
    // dropped, fetched again and loaded again, once.
    private async Task InstallPackagesAsync(HostProcess host)
    {
        var packages = await GetPackagesAsync(CancellationToken.None).ConfigureAwait(false);
        if (packages.Count == 0) return;
        var changed = await SendInstallAsync(host, packages, replace: false).ConfigureAwait(false);
        if (changed.Count == 0) return;
        var (location, _) = await RuntimeAsync(CancellationToken.None).ConfigureAwait(false);
        var resolver = PackageResolver.For(Options, location);
        foreach (var p in changed) resolver.Discard(p);
        Interlocked.Exchange(ref _packages, null);
        packages = await GetPackagesAsync(CancellationToken.None).ConfigureAwait(false);
        changed = await SendInstallAsync(host, packages, replace: true).ConfigureAwait(false);
        if (changed.FirstOrDefault() is { } still)
        {
            resolver.Discard(still);
            throw new PackageHashMismatchException(still.FileName, still.Sha256, "(changed while loading)",
                $"The package file '{still.Path}' changed on disk after it was verified, and again after it was fetched anew: the sandbox refused it " +
                $"(its SHA-256 is not {still.Sha256}). Something rewrites the package cache ('{Path.GetDirectoryName(Path.GetDirectoryName(still.Path))}'): " +
                $"stop it, or point {nameof(SandboxOptions)}.{nameof(SandboxOptions.CacheDirectory)} at a folder only this application writes.", null);
        }
    }

    // Sends the install request; returns the packages the process found changed (none when they loaded).
    private async Task<IReadOnlyList<InstalledPackage>> SendInstallAsync(HostProcess host, IReadOnlyList<InstalledPackage> packages, bool replace)
    {
        IReadOnlyList<string> paths;
        try
        {
            paths = host.ProvidePackages(packages, replace);
        }
        catch (FileNotFoundException) when (packages.Where(p => !File.Exists(p.Path)).ToList() is { Count: > 0 } gone)
        {
            // Dropped by another process of this sandbox that found it changed: fetched again like a changed file.
            return gone;
        }

        var request = new System.Text.Json.Nodes.JsonObject
        {
            ["files"] = new System.Text.Json.Nodes.JsonArray([.. packages.Select((p, i) => new System.Text.Json.Nodes.JsonObject { ["path"] = paths[i], ["pure"] = p.Pure, ["sha256"] = VerifiedFiles.DisabledForBenchmarks ? null : p.Sha256 })]),
            ["imports"] = new System.Text.Json.Nodes.JsonArray([.. packages.SelectMany(p => p.Imports).Distinct().Select(i => System.Text.Json.Nodes.JsonValue.Create(i))]),
            ["describe"] = string.Join(", ", packages.Select(p => $"{p.Name} {p.Version}")),
        }.ToJsonString();
        using var reply = await host.SendAsync("install", Options.StartTimeout, CancellationToken.None, args: request).ConfigureAwait(false);
        var root = reply.Ok ? reply.Payload.RootElement : default;
        if (reply.Ok && root.ValueKind == JsonValueKind.Object && root.TryGetProperty("changed", out var changed) && changed.ValueKind == JsonValueKind.Array
            && changed.GetArrayLength() > 0)
        {
            // The process's word is untrusted: it can only name files of this request, which are then fetched again.
            var named = changed.EnumerateArray().Select(c => c.ValueKind == JsonValueKind.String ? c.GetString() : null).ToHashSet(StringComparer.Ordinal);
            var found = packages.Where((_, i) => named.Contains(paths[i])).ToList();
            if (found.Count > 0) return found;
        }

        if (!reply.Ok || root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
        {
            var why = !reply.Ok ? reply.ErrorMessage
                : root.ValueKind == JsonValueKind.Object && root.TryGetProperty("message", out var message) ? message.ToString()
                : "the sandbox answered " + root.GetRawText();
            throw new PackageException($"Loading the packages {string.Join(", ", packages.Select(p => p.FileName))} into the sandbox failed: {why}");
        }

        return [];
    }
}
