using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Packages;

/// <summary>
/// Turns declared package names into verified files in the per-user cache: Pyodide's packages (and their dependencies)
/// from the lock file, fetched from the package index with <see cref="HttpClient"/> and checked against the lock file's
/// SHA-256; the user's pure-Python wheels from their folder, with their SHA-256 recorded. A file enters the cache only
/// whole and verified, so a failed or interrupted fetch leaves nothing behind.
/// </summary>
internal sealed class PackageResolver
{
    private static readonly HttpClient s_http = new() { Timeout = TimeSpan.FromMinutes(5) };

    private readonly PackageLock _lock;
    private readonly WheelFolder? _wheels;

    // The folder that 'dotnet publish' filled beside the application: its files are verified where they are, never copied.
    private readonly bool _readInPlace;

    public PackageResolver(string lockFile, string index, string? wheelDirectory, string cacheDirectory, bool readInPlace = false)
    {
        _readInPlace = readInPlace;
        _lock = PackageLock.Load(lockFile);
        _wheels = wheelDirectory is null ? null : WheelFolder.Scan(wheelDirectory);
        Index = IsRemote(index) || index.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            ? index.TrimEnd('/') + "/"
            : Path.TrimEndingDirectorySeparator(Path.GetFullPath(index)) + Path.DirectorySeparatorChar;
        CacheDirectory = Path.Combine(cacheDirectory, "packages");
    }

    /// <summary>Where Pyodide's package files are fetched from: a URL ending in '/' or a folder.</summary>
    public string Index { get; }

    public string CacheDirectory { get; }

    /// <summary>The resolver for a sandbox's settings: its lock file (by default the pinned Pyodide's), index and wheel folder.</summary>
    /// <remarks>
    /// With no index and no wheel folder chosen, a published application's own <c>anydef-runtime/packages/</c> folder (filled at
    /// publish) is the index, read in place: a read-only, offline deployment needs neither the network nor a writable cache.
    /// </remarks>
    public static PackageResolver For(SandboxOptions options, RuntimeLocation location)
    {
        var lockFile = options.PackageLockFile ?? Path.Combine(location.PyodideDirectory, "pyodide-lock.json");
        var index = options.PackageIndex ?? (Environment.GetEnvironmentVariable("ANYDEF_PACKAGE_INDEX") is { Length: > 0 } i ? i : null);
        var wheels = options.WheelDirectory ?? (Environment.GetEnvironmentVariable("ANYDEF_WHEEL_DIR") is { Length: > 0 } w ? w : null);
        var published = Path.Combine(AppContext.BaseDirectory, RuntimeLocation.PublishedFolderName, "packages");
        return index is null && wheels is null && location.IsPublished && Directory.Exists(published)
            ? new(lockFile, published, null, location.CacheDirectory, readInPlace: true)
            : new(lockFile, index ?? DefaultIndex(location), wheels, location.CacheDirectory);
    }

    /// <summary>The official distribution of the pinned Pyodide version.</summary>
    public static string DefaultIndex(RuntimeLocation location)
    {
        using var package = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(location.PyodideDirectory, "package.json")));
        return $"https://cdn.jsdelivr.net/pyodide/v{package.RootElement.GetProperty("version").GetString()}/full/";
    }

    /// <summary>The packages and everything they depend on, dependencies first, each verified and in the cache.</summary>
    public async Task<IReadOnlyList<InstalledPackage>> ResolveAsync(PackageSet packages, CancellationToken cancellationToken)
    {
        SweepAbandoned();
        var ordered = new List<string>();
        var visiting = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in packages) Visit(name, ordered, visiting);
        var result = new List<InstalledPackage>(ordered.Count);
        foreach (var name in ordered) result.Add(await FetchAsync(name, cancellationToken).ConfigureAwait(false));
        return result;
    }

    private void Visit(string name, List<string> ordered, HashSet<string> visiting)
    {
        if (ordered.Contains(name) || !visiting.Add(name)) return;
        foreach (var dependency in DependenciesOf(name)) Visit(dependency, ordered, visiting);
        ordered.Add(name);
    }

    // The lock file wins over the wheel folder, so a folder made by 'anydef packages fetch' can serve as both.
    private IEnumerable<string> DependenciesOf(string name)
    {
        if (_lock.Packages.TryGetValue(name, out var entry)) return entry.Depends;
        if (_wheels?.Wheels.TryGetValue(name, out var wheel) == true) return WheelFolder.Inspect(wheel.Path).Requires;
        var known = _lock.Packages.Keys.Where(k => !k.EndsWith("-tests", StringComparison.Ordinal)).Concat(_wheels?.Wheels.Keys ?? []);
        throw new PackageNotFoundException(name, PackageNames.Closest(name, known), _wheels?.Directory);
    }

    private async Task<InstalledPackage> FetchAsync(string name, CancellationToken cancellationToken)
    {
        if (_lock.Packages.TryGetValue(name, out var entry))
        {
            var url = Index + entry.FileName;
            var path = _readInPlace
                ? await VerifyInPlaceAsync(entry.FileName, entry.Sha256, url, cancellationToken).ConfigureAwait(false)
                : await StoreAsync(entry.FileName, entry.Sha256, url, cancellationToken).ConfigureAwait(false);
            return new InstalledPackage(name, entry.Version, entry.FileName, entry.Sha256, path, entry.Imports, IsPure(entry.FileName));
        }

        var wheel = _wheels!.Wheels[name];
        if (!wheel.Pure)
        {
            throw new PackageException($"The wheel '{wheel.Path}' is built for a platform ('{Path.GetFileNameWithoutExtension(wheel.Path).Split('-')[^1]}'); " +
                "only pure-Python wheels (ending in -none-any.whl) run in the sandbox. Use a package Pyodide ships, or a pure-Python release.");
        }

        var stored = await StoreAsync(Path.GetFileName(wheel.Path), expectedSha256: null, wheel.Path, cancellationToken).ConfigureAwait(false);
        var sha = Path.GetFileName(Path.GetDirectoryName(stored)!);
        return new InstalledPackage(name, wheel.Version, Path.GetFileName(wheel.Path), sha, stored, WheelFolder.Inspect(stored).Imports, Pure: true);
    }

    private async Task<string> VerifyInPlaceAsync(string fileName, string expectedSha256, string path, CancellationToken cancellationToken)
    {
        string actual;
        await using (var input = await OpenAsync(path, fileName, cancellationToken).ConfigureAwait(false))
        {
            actual = await CopyHashingAsync(input, Stream.Null, cancellationToken).ConfigureAwait(false);
        }

        return actual == expectedSha256 ? path : throw new PackageHashMismatchException(fileName, path, expectedSha256, actual);
    }

    // A fetch cut short by the end of its process leaves a temporary file; one a day old belongs to nobody.
    private void SweepAbandoned()
    {
        if (!Directory.Exists(CacheDirectory)) return;
        foreach (var temp in Directory.EnumerateFiles(CacheDirectory, "*.tmp"))
        {
            if (File.GetLastWriteTimeUtc(temp) < DateTime.UtcNow.AddDays(-1)) TryDelete(temp);
        }
    }

    private static bool IsPure(string fileName) => fileName.EndsWith("-any.whl", StringComparison.Ordinal);

    private static bool IsRemote(string location) =>
        location.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    // Content-addressed: a file's folder is its SHA-256, and it is moved there only after its hash was checked.
    private async Task<string> StoreAsync(string fileName, string? expectedSha256, string source, CancellationToken cancellationToken)
    {
        if (expectedSha256 is not null && Path.Combine(CacheDirectory, expectedSha256, fileName) is var cached && File.Exists(cached)) return cached;
        Directory.CreateDirectory(CacheDirectory);
        var temp = Path.Combine(CacheDirectory, $"{fileName}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string? folder = null;
        try
        {
            string actual;
            await using (var output = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await using var input = await OpenAsync(source, fileName, cancellationToken).ConfigureAwait(false);
                actual = await CopyHashingAsync(input, output, cancellationToken).ConfigureAwait(false);
            }

            if (expectedSha256 is not null && actual != expectedSha256) throw new PackageHashMismatchException(fileName, source, expectedSha256, actual);
            folder = Path.Combine(CacheDirectory, actual);
            Directory.CreateDirectory(folder);
            var final = Path.Combine(folder, fileName);
            File.Move(temp, final, overwrite: true);
            return final;
        }
        catch (IOException ex) when (IsRemote(source))
        {
            throw new PackageDownloadException($"Fetching {source} broke off ({ex.Message}); nothing was kept. Try again, or use a mirror or a folder " +
                $"({nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageIndex)}).", source, ex);
        }
        finally
        {
            TryDelete(temp);
            if (folder is not null && !Directory.EnumerateFileSystemEntries(folder).Any()) TryDeleteDirectory(folder);
        }
    }

    private async Task<Stream> OpenAsync(string source, string fileName, CancellationToken cancellationToken)
    {
        var how = $"Point {nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageIndex)} (or ANYDEF_PACKAGE_INDEX) at a reachable mirror of the " +
            "Pyodide distribution, or at a folder made by 'anydef packages fetch' on a machine with network access.";
        if (!IsRemote(source))
        {
            var path = source.StartsWith("file:", StringComparison.OrdinalIgnoreCase) ? new Uri(source).LocalPath : source;
            if (!File.Exists(path)) throw new PackageDownloadException($"The package file '{fileName}' is not in '{Path.GetDirectoryName(path)}'. {how}", path);
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
        }

        HttpResponseMessage response;
        try
        {
            response = await s_http.GetAsync(source, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new PackageDownloadException($"The package index could not be reached: fetching {source} failed ({ex.Message}). {how}", source, ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            var what = response.StatusCode == HttpStatusCode.NotFound ? $"has no file '{fileName}'" : $"answered HTTP {(int)response.StatusCode}";
            throw new PackageDownloadException($"The package index {Index} {what} ({source}). {how}", source);
        }

        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<string> CopyHashingAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            sha.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
        }

        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteDirectory(string path)
    {
        try { Directory.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
