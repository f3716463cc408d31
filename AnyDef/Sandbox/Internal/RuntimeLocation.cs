using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>Where the pieces of the sandbox runtime are on this machine, installing them once when they are missing.</summary>
internal sealed record RuntimeLocation(string DenoPath, string PyodideDirectory, string HostDirectory, string CacheDirectory)
{
    /// <summary>The folder, beside a published application, that <c>dotnet publish -r RID</c> fills with the runtime.</summary>
    internal const string PublishedFolderName = "anydef-runtime";

    /// <summary>The interpreter snapshot made at publish and shipped beside the runtime, if there is one.</summary>
    public string? PublishedSnapshot { get; init; }

    /// <summary>Whether this runtime came with the application (published beside it) rather than from a cache or a chosen folder.</summary>
    public bool IsPublished { get; init; }

    /// <summary>Whether the host scripts are the library's own (written from this assembly, or published with it) rather than a chosen folder.</summary>
    public bool HostScriptsFromLibrary { get; init; }

    private static readonly string[] PyodideFiles = ["pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", "pyodide.mjs"];
    private static readonly string[] HostFiles = ["host.ts", "worker.ts", "transport.ts", "runtime.py", "package.json", "package-lock.json"];

    public string HostScript => Path.Combine(HostDirectory, "host.ts");

    public string WorkerScript => Path.Combine(HostDirectory, "worker.ts");

    public string TransportScript => Path.Combine(HostDirectory, "transport.ts");

    /// <summary>The Python half of the runtime, which the worker loads into each interpreter.</summary>
    public string RuntimeScript => Path.Combine(HostDirectory, "runtime.py");

    /// <summary>Exactly what the Python worker may read: the Pyodide files and its own scripts.</summary>
    public IReadOnlyList<string> WorkerReadable => [.. PyodideFiles.Select(f => Path.Combine(PyodideDirectory, f)), WorkerScript, RuntimeScript];

    public static string CacheRoot(SandboxOptions options) => Path.GetFullPath(options.CacheDirectory
        ?? (Environment.GetEnvironmentVariable("ANYDEF_CACHE_DIR") is { Length: > 0 } d ? d : null)
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify), "anydef"));

    public static async Task<RuntimeLocation> ResolveAsync(SandboxOptions options, CancellationToken cancellationToken)
    {
        // The first launch needs to know whether the OS layer works: find out while the runtime is located.
        if (options.UseOsSandbox) OsSandbox.ProbeInBackground();
        var cacheDir = CacheRoot(options);
        // An explicit choice is the only candidate: silently running another runtime would hide a mistake.
        var chosen = options.RuntimeDirectory ?? (Environment.GetEnvironmentVariable("ANYDEF_RUNTIME_DIR") is { Length: > 0 } env ? env : null);

        // A published application carries its runtime, host scripts and snapshot beside itself, and needs nothing else.
        if (chosen is null && Published(options, cacheDir) is { } published) return published;

        var hostDir = options.HostDirectory ?? await ExtractHostAsync(cacheDir, cancellationToken).ConfigureAwait(false);
        if (!File.Exists(Path.Combine(hostDir, "host.ts")) || !File.Exists(Path.Combine(hostDir, "worker.ts")) || !File.Exists(Path.Combine(hostDir, "runtime.py")) || !File.Exists(Path.Combine(hostDir, "transport.ts")))
        {
            throw new SandboxUnavailableException(
                $"The AnyDef sandbox host scripts (host.ts, worker.ts, transport.ts, runtime.py) are not in '{hostDir}'. Point " +
                $"{nameof(SandboxOptions)}.{nameof(SandboxOptions.HostDirectory)} at the repository's deno/ folder, or leave it unset.");
        }

        var fromLibrary = options.HostDirectory is null;
        if (chosen is not null) return (Found(chosen, hostDir, cacheDir) ?? throw Missing([chosen], null)) with { HostScriptsFromLibrary = fromLibrary };

        var pointer = Path.Combine(AppContext.BaseDirectory, "anydef-host", "runtime-dir.txt");
        var candidates = new List<string>();
        if (File.Exists(pointer)) candidates.Add(File.ReadAllText(pointer).Trim());
        var cached = Path.Combine(cacheDir, "runtime", LockHash());
        candidates.Add(cached);
        foreach (var dir in candidates)
        {
            if (Found(dir, hostDir, cacheDir) is { } location) return location with { HostScriptsFromLibrary = fromLibrary };
        }

        if (!options.InstallRuntime || Environment.GetEnvironmentVariable("ANYDEF_NO_INSTALL") is "1" or "true")
        {
            throw Missing(candidates, cached);
        }

        await RuntimeInstaller.InstallAsync(hostDir, cached, options, cancellationToken).ConfigureAwait(false);
        return (Found(cached, hostDir, cacheDir) ?? throw Missing(candidates, cached)) with { HostScriptsFromLibrary = fromLibrary };
    }

    /// <summary>The runtime that <c>dotnet publish</c> put beside the application, if it is there and complete.</summary>
    internal static RuntimeLocation? Published(SandboxOptions options, string cacheDir)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, PublishedFolderName);
        if (!Directory.Exists(dir)) return null;
        var hostDir = options.HostDirectory ?? Path.Combine(dir, "host");
        if (Found(dir, hostDir, cacheDir) is not { } location || !File.Exists(location.HostScript) || !File.Exists(location.WorkerScript)) return null;
        // The snapshot belongs to the published host scripts: another host folder gets its own.
        var snapshot = Path.Combine(dir, "snapshot", "pyodide.bin");
        return location with { IsPublished = true, HostScriptsFromLibrary = options.HostDirectory is null, PublishedSnapshot = options.HostDirectory is null && File.Exists(snapshot) ? snapshot : null };
    }

    /// <summary>The error for something the library must write into its cache folder and cannot (a read-only home, say).</summary>
    internal static SandboxUnavailableException CannotWrite(string what, string path, Exception inner) => new(
        $"AnyDef must write {what} to '{path}' and cannot ({inner.Message}). Point {nameof(SandboxOptions)}.{nameof(SandboxOptions.CacheDirectory)} " +
        "(or the ANYDEF_CACHE_DIR environment variable) at a writable folder, or publish the application with a runtime identifier " +
        "(dotnet publish -r linux-x64) so that the runtime and its snapshot travel with it and nothing is written at run time.", inner);

    private static RuntimeLocation? Found(string dir, string hostDir, string cacheDir)
    {
        var deno = DenoBinary(dir);
        var pyodide = Path.Combine(dir, "node_modules", "pyodide");
        return File.Exists(deno) && File.Exists(Path.Combine(pyodide, "pyodide.asm.wasm"))
            ? new RuntimeLocation(Path.GetFullPath(deno), Path.GetFullPath(pyodide), Path.GetFullPath(hostDir), cacheDir)
            : null;
    }

    private static SandboxUnavailableException Missing(IEnumerable<string> searched, string? installTo) => new(
        "The pinned Deno and Pyodide runtime was not found. " +
        (installTo is null
            ? "Install it with `npm ci` in the folder you named (it needs AnyDef's package.json and package-lock.json), or unset ANYDEF_RUNTIME_DIR. "
            : $"Install Node.js and npm and let AnyDef install it into {installTo} on first use (unset ANYDEF_NO_INSTALL), or run `npm ci` there yourself. ") +
        $"Searched: {string.Join(", ", searched)}.");

    private static string DenoBinary(string runtimeDir)
    {
        var arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "x64";
        var platform = OperatingSystem.IsWindows() ? $"win32-{arch}"
            : OperatingSystem.IsMacOS() ? $"darwin-{arch}"
            : $"linux-{arch}-glibc";
        return Path.Combine(runtimeDir, "node_modules", "@deno", platform, OperatingSystem.IsWindows() ? "deno.exe" : "deno");
    }

    internal static byte[] Resource(string file)
    {
        using var stream = typeof(RuntimeLocation).Assembly.GetManifestResourceStream("anydef-host/" + file)
            ?? throw new SandboxUnavailableException($"The AnyDef library is missing its embedded '{file}'; reinstall the AnyDef package.");
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }

    private static string LockHash() => Convert.ToHexString(SHA256.HashData(Resource("package-lock.json")))[..16].ToLowerInvariant();

    // The host scripts are written once per content hash, so a new library version never runs an old host.
    private static async Task<string> ExtractHostAsync(string cacheDir, CancellationToken cancellationToken)
    {
        var contents = HostFiles.ToDictionary(f => f, Resource);
        var hash = Convert.ToHexString(SHA256.HashData([.. contents.Values.SelectMany(b => b)]))[..16].ToLowerInvariant();
        var dir = Path.Combine(cacheDir, "host", hash);
        if (HostFiles.All(f => File.Exists(Path.Combine(dir, f)))) return dir;
        // A folder of its own per extraction: two sandboxes of one process may extract at the same moment.
        var temp = $"{dir}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(temp);
            foreach (var (file, bytes) in contents) await File.WriteAllBytesAsync(Path.Combine(temp, file), bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw CannotWrite("the sandbox host scripts", dir, ex);
        }

        try
        {
            Directory.Move(temp, dir);
        }
        catch (IOException) when (Directory.Exists(dir))
        {
            Directory.Delete(temp, recursive: true);
        }

        return dir;
    }
}
