using System.Collections.Concurrent;
using System.Text.Json;

namespace AnyDefNet.Packages;

/// <summary>A Pyodide <c>pyodide-lock.json</c>: every package of the distribution with its file, SHA-256 and dependencies.</summary>
internal sealed class PackageLock
{
    private static readonly ConcurrentDictionary<(string, DateTime), PackageLock> s_loaded = new();

    internal sealed record Entry(string Name, string Version, string FileName, string Sha256, IReadOnlyList<string> Depends, IReadOnlyList<string> Imports);

    private PackageLock(string path, Dictionary<string, Entry> packages)
    {
        Path = path;
        Packages = packages;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, Entry> Packages { get; }

    public static PackageLock Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (!File.Exists(full))
        {
            throw new PackageException($"The package lock file '{full}' does not exist. Leave {nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageLockFile)} " +
                "unset to use the pinned Pyodide's own lock file.");
        }

        return s_loaded.GetOrAdd((full, File.GetLastWriteTimeUtc(full)), key => Parse(key.Item1));
    }

    private static PackageLock Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            using var doc = JsonDocument.Parse(stream);
            var packages = new Dictionary<string, Entry>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.GetProperty("packages").EnumerateObject())
            {
                var v = p.Value;
                var name = PackageNames.Normalize(v.TryGetProperty("name", out var n) ? n.GetString()! : p.Name);
                packages[name] = new Entry(name, v.GetProperty("version").GetString()!, v.GetProperty("file_name").GetString()!,
                    v.GetProperty("sha256").GetString()!.ToLowerInvariant(), Strings(v, "depends").Select(PackageNames.Normalize).ToList(), Strings(v, "imports"));
            }

            return new PackageLock(path, packages);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new PackageException($"The package lock file '{path}' is not a valid pyodide-lock.json: {ex.Message}", ex);
        }
    }

    private static List<string> Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray().Select(e => e.GetString()!)] : [];
}
