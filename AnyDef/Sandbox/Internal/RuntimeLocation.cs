using System.Runtime.InteropServices;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>Where the pieces of the sandbox runtime are on this machine.</summary>
internal sealed record RuntimeLocation(string DenoPath, string PyodideDirectory, string HostDirectory, string CacheDirectory)
{
    private static readonly string[] PyodideFiles = ["pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json", "pyodide.mjs"];

    public string HostScript => Path.Combine(HostDirectory, "host.ts");

    public string WorkerScript => Path.Combine(HostDirectory, "worker.ts");

    /// <summary>Exactly what the Python worker may read: the Pyodide files and its own script.</summary>
    public IReadOnlyList<string> WorkerReadable => [.. PyodideFiles.Select(f => Path.Combine(PyodideDirectory, f)), WorkerScript];

    public static RuntimeLocation Resolve(SandboxOptions options)
    {
        var hostDir = options.HostDirectory ?? Path.Combine(AppContext.BaseDirectory, "anydef-host");
        if (!File.Exists(Path.Combine(hostDir, "host.ts")) || !File.Exists(Path.Combine(hostDir, "worker.ts")))
        {
            throw new SandboxUnavailableException(
                $"The AnyDef sandbox host scripts (host.ts, worker.ts) are not in '{hostDir}'. They are copied there by the build; " +
                $"rebuild the application, or set {nameof(SandboxOptions)}.{nameof(SandboxOptions.HostDirectory)}.");
        }

        var cacheDir = options.CacheDirectory
            ?? Environment.GetEnvironmentVariable("ANYDEF_CACHE_DIR")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "anydef");

        // An explicit choice is the only candidate: silently running another runtime would hide a mistake.
        var chosen = options.RuntimeDirectory ?? (Environment.GetEnvironmentVariable("ANYDEF_RUNTIME_DIR") is { Length: > 0 } env ? env : null);
        List<string?> candidates = chosen is not null ? [chosen] : [ReadPointer(Path.Combine(hostDir, "runtime-dir.txt")), hostDir];
        foreach (var dir in candidates.Where(d => !string.IsNullOrWhiteSpace(d)))
        {
            var deno = DenoBinary(dir!);
            var pyodide = Path.Combine(dir!, "node_modules", "pyodide");
            if (File.Exists(deno) && File.Exists(Path.Combine(pyodide, "pyodide.asm.wasm")))
            {
                return new RuntimeLocation(Path.GetFullPath(deno), Path.GetFullPath(pyodide), Path.GetFullPath(hostDir), Path.GetFullPath(cacheDir));
            }
        }

        throw new SandboxUnavailableException(
            "The pinned Deno and Pyodide runtime was not found. Install it with `npm ci` in the folder that holds the AnyDef " +
            "host's package.json (the repository's deno/ folder, or the application's anydef-host folder), then point " +
            $"ANYDEF_RUNTIME_DIR or {nameof(SandboxOptions)}.{nameof(SandboxOptions.RuntimeDirectory)} at it. " +
            $"Searched: {string.Join(", ", candidates.Where(c => !string.IsNullOrWhiteSpace(c)))}.");
    }

    private static string? ReadPointer(string file) => File.Exists(file) ? File.ReadAllText(file).Trim() : null;

    private static string DenoBinary(string runtimeDir)
    {
        var arch = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? "arm64" : "x64";
        var platform = OperatingSystem.IsWindows() ? $"win32-{arch}"
            : OperatingSystem.IsMacOS() ? $"darwin-{arch}"
            : $"linux-{arch}-glibc";
        return Path.Combine(runtimeDir, "node_modules", "@deno", platform, OperatingSystem.IsWindows() ? "deno.exe" : "deno");
    }
}
