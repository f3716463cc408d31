using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Packages;

/// <summary>
/// Turns declared package names into verified files in the per-user cache: Pyodide's packages (and their dependencies)
/// from the lock file, fetched from the package index with <see cref="HttpClient"/> and checked against the lock file's
/// SHA-256; the user's pure-Python wheels from their folder, with their SHA-256 recorded. A file enters the cache only
/// whole and verified, so a failed or interrupted fetch leaves nothing behind; a cached file is hashed again once per
/// application run before it is used, and one that no longer matches is deleted and fetched again, once.
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
        CheckRequirements(result);
        return result;
    }

    /// <summary>
    /// Drops a package file that a sandbox process found changed when it loaded it (after this run had verified it):
    /// it is hashed again, and fetched again when it is in the cache, at the next <see cref="ResolveAsync"/>.
    /// </summary>
    public void Discard(InstalledPackage package)
    {
        VerifiedFiles.Forget(package.Path);
        if (!_readInPlace && package.Path.StartsWith(CacheDirectory + Path.DirectorySeparatorChar, StringComparison.Ordinal)) TryDelete(package.Path);
    }

    // A user's wheel may require versions of what it depends on: the versions resolved must meet them.
    private void CheckRequirements(List<InstalledPackage> resolved)
    {
        foreach (var p in resolved.Where(p => !_lock.Packages.ContainsKey(p.Name)))
        {
            foreach (var requirement in WheelFolder.Inspect(p.Path).Requires.Where(r => r.Specifier.Length > 0))
            {
                var dependency = resolved.First(d => d.Name == requirement.Name);
                bool met;
                try
                {
                    met = PackageVersions.Satisfies(dependency.Version, requirement.Specifier);
                }
                catch (FormatException ex)
                {
                    throw new PackageException($"The wheel '{p.FileName}' requires '{requirement.Name} {requirement.Specifier}', which is not a version " +
                        $"specifier AnyDef understands ({ex.Message}). Use a release of the wheel with plain specifiers (such as '>=1.2,<2').", ex);
                }

                if (!met)
                {
                    throw new PackageException($"The wheel '{p.FileName}' requires '{requirement.Name} {requirement.Specifier}', but the version available is " +
                        $"{dependency.Version} ({dependency.FileName}). Put a matching release of '{requirement.Name}' in the wheel folder " +
                        $"({nameof(SandboxOptions)}.{nameof(SandboxOptions.WheelDirectory)}), or use a release of '{p.Name}' that accepts {dependency.Version}.");
                }
            }
        }
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
        if (_wheels?.Wheels.TryGetValue(name, out var wheel) == true) return WheelFolder.Inspect(wheel.Path).Requires.Select(r => r.Name);
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

    // A published application's packages cannot be fetched again: one that changed is an error naming it.
    private async Task<string> VerifyInPlaceAsync(string fileName, string expectedSha256, string path, CancellationToken cancellationToken)
    {
        if (File.Exists(path) && VerifiedFiles.Check(path, expectedSha256)) return path;
        string actual;
        await using (var input = await OpenAsync(path, fileName, cancellationToken).ConfigureAwait(false))
        {
            actual = await CopyHashingAsync(input, Stream.Null, cancellationToken).ConfigureAwait(false);
        }

        if (actual == expectedSha256)
        {
            VerifiedFiles.Record(path, expectedSha256);
            return path;
        }

        throw new PackageHashMismatchException(fileName, expectedSha256, actual,
            $"The published package file '{path}' has SHA-256 {actual}, but the lock file expects {expectedSha256}: it changed after it was published. " +
            "Publish the application again (or restore the file from the published output); nothing was loaded from it.", null);
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

    // Content-addressed: a file's folder is its SHA-256, and it is moved there only after its hash was checked. A cached
    // file is hashed again (once per run) before it is used: one whose bytes changed is deleted and fetched again.
    private async Task<string> StoreAsync(string fileName, string? expectedSha256, string source, CancellationToken cancellationToken)
    {
        if (expectedSha256 is not null && Path.Combine(CacheDirectory, expectedSha256, fileName) is var cached && File.Exists(cached))
        {
            if (VerifiedFiles.Check(cached, expectedSha256)) return cached;
            VerifiedFiles.Forget(cached);
            TryDelete(cached);
        }

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
            VerifiedFiles.Record(final, actual);
            return final;
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
            try
            {
                return new SourceStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true), path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw SourceFailed(path, ex);
            }
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

        return new SourceStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), source);
    }

    private static PackageDownloadException SourceFailed(string source, Exception ex) => IsRemote(source)
        ? new PackageDownloadException($"Fetching {source} broke off ({ex.Message}); nothing was kept. Try again, or use a mirror or a folder " +
            $"({nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageIndex)}).", source, ex)
        : new PackageDownloadException($"Reading the package file '{source}' failed ({ex.Message}); nothing was kept. Check the folder and its " +
            $"permissions, or copy it again ('anydef packages fetch'); {nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageIndex)} names it.", source, ex);

    // What a package is read from: a failure to read it (not to write the cache) is the source's failure.
    private sealed class SourceStream(Stream inner, string source) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException)
            {
                throw SourceFailed(source, ex);
            }
        }

        public override void Flush() { }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }

        public override ValueTask DisposeAsync() => inner.DisposeAsync();
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
