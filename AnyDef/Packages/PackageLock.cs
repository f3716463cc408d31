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
                var fileName = v.GetProperty("file_name").GetString()!;
                var sha256 = v.GetProperty("sha256").GetString()!.ToLowerInvariant();
                if (!IsPlainFileName(fileName))
                {
                    throw new PackageException($"The package lock file '{path}' names the file '{fileName}' for '{name}': a package file is a plain " +
                        "file name ending in .whl, .zip or .tar (no folders, no '..'). Use the lock file of the pinned Pyodide, or fix the entry.");
                }

                if (sha256.Length != 64 || !sha256.All(char.IsAsciiHexDigitLower))
                {
                    throw new PackageException($"The package lock file '{path}' gives '{sha256}' as the SHA-256 of '{fileName}': a SHA-256 is 64 hex digits. " +
                        "Use the lock file of the pinned Pyodide, or fix the entry.");
                }

                packages[name] = new Entry(name, v.GetProperty("version").GetString()!, fileName, sha256,
                    Strings(v, "depends").Select(PackageNames.Normalize).ToList(), Strings(v, "imports"));
            }

            return new PackageLock(path, packages);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new PackageException($"The package lock file '{path}' is not a valid pyodide-lock.json: {ex.Message}", ex);
        }
    }

    /// <summary>Whether a lock entry's file name can be used as one: it becomes part of paths in the cache and of the index's address.</summary>
    internal static bool IsPlainFileName(string fileName) =>
        fileName.Length is > 4 and <= 255
        && fileName[0] != '.'
        && !fileName.Contains("..", StringComparison.Ordinal)
        && fileName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '+' or '!')
        && (fileName.EndsWith(".whl", StringComparison.Ordinal) || fileName.EndsWith(".zip", StringComparison.Ordinal) || fileName.EndsWith(".tar", StringComparison.Ordinal));

    private static List<string> Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array ? [.. list.EnumerateArray().Select(e => e.GetString()!)] : [];
}
