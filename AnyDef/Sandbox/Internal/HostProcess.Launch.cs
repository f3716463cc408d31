using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;
using CliWrap;
using CliWrap.Builders;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Sandbox.Internal;

internal sealed partial class HostProcess
{
    // The tail of the host's standard output and error kept for crash diagnosis.
    private const int LogCapacity = 16 * 1024;

    /// <summary>The memory cgroup this host runs in, where the operating system allowed one.</summary>
    public MemoryCgroup? Cgroup { get; private set; }

    // The WebAssembly heap is capped at the budget; the whole process (V8 heap, JavaScript buffers) gets twice that
    // plus room for the runtime itself. The host checks the same figure against its resident size.
    internal static long MemoryBackstopBytes(SandboxOptions options) => (long)options.MemoryLimitMegabytes * 2 * 1024 * 1024 + 256L * 1024 * 1024;

    // The permission set is the security boundary: read of the named files only, the private socket, nothing else.
    private static IEnumerable<string> CommonArguments(SandboxOptions options) =>
    [
        "run",
        "--no-prompt",
        "--no-config",
        "--no-lock",
        "--no-remote",
        "--no-npm",
        "--cached-only",
        "--unstable-worker-options",
        $"--v8-flags=--max-old-space-size={Math.Max(256, options.MemoryLimitMegabytes)},{YoungGeneration}",
    ];

    // A host has two JavaScript heaps (its main thread and the Python worker), whose young generations each grow to V8's
    // default semi-space size over many calls, with little to show for it: a call leaves little garbage, and a large
    // result lives outside the young generation. Capped, the host keeps about 15 MB less resident after 20,000 calls.
    private const string YoungGeneration = "--max-semi-space-size=2";

    /// <summary>
    /// Every path the host process may read, in one list: Deno's <c>--allow-read</c> is built from it, and nothing outside
    /// it may be made readable another way. The runtime files, the host script, the private socket, the snapshot and the
    /// host's own package folder (the verified package files of its function are linked in there before they load).
    /// </summary>
    internal static IReadOnlyList<string> ReadPermissions(RuntimeLocation location, string? socketPath, string? snapshotPath, string? packageDirectory) =>
    [
        .. WorkerReadPermissions(location, packageDirectory),
        location.HostScript,
        location.TransportScript,
        .. socketPath is null ? Array.Empty<string>() : [socketPath],
        .. snapshotPath is null ? Array.Empty<string>() : [snapshotPath],
    ];

    /// <summary>What the Python worker may read: a subset of <see cref="ReadPermissions"/> (no socket, no snapshot).</summary>
    internal static IReadOnlyList<string> WorkerReadPermissions(RuntimeLocation location, string? packageDirectory) =>
        [.. location.WorkerReadable, .. packageDirectory is null ? Array.Empty<string>() : [packageDirectory]];

    private static string HostConfig(RuntimeLocation location, SandboxOptions options, HostTransport? transport, string? snapshotPath, string? makeSnapshot, string? packageDirectory = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["socket"] = transport?.SocketPath ?? "",
            ["port"] = transport?.Port ?? 0,
            ["indexDir"] = location.PyodideDirectory + Path.DirectorySeparatorChar,
            ["moduleUrl"] = new Uri(Path.Combine(location.PyodideDirectory, "pyodide.mjs")).AbsoluteUri,
            ["workerPermissions"] = options.BroadDenoPermissionsForTests ? "inherit" : WorkerReadPermissions(location, packageDirectory).ToArray(),
            ["snapshot"] = snapshotPath,
            // The host checks the snapshot's bytes against the SHA-256 this run verified, so a file swapped since never loads.
            ["snapshotSha256"] = snapshotPath is null ? null : Packages.VerifiedFiles.Expected(snapshotPath),
            ["makeSnapshot"] = makeSnapshot,
            ["memoryBytes"] = (long)options.MemoryLimitMegabytes * 1024 * 1024,
            ["graceMs"] = (long)options.InterruptGrace.TotalMilliseconds,
            ["maxResultBytes"] = options.MaxResultBytes,
            ["profile"] = BridgeProfile.Enabled,
        }, LibraryJson.Default.DictionaryStringObject);

    private static Dictionary<string, string?> HostVariables(RuntimeLocation location) => new()
    {
        ["DENO_DIR"] = Path.Combine(location.CacheDirectory, "deno-dir"),
        ["NO_COLOR"] = "1",
        ["DENO_NO_UPDATE_CHECK"] = "1",
        // The C allocator's fixed threshold for giving a large block its own mapping. Left to adjust itself, freeing the
        // 30 MB snapshot raises the threshold to 30 MB, and later blocks up to that size then come from its arenas, which
        // keep their pages after the blocks are freed: about 30 MB per arena resident for as long as the process lives.
        ["MALLOC_MMAP_THRESHOLD_"] = "131072",
    };

    private static void HostEnvironment(EnvironmentVariablesBuilder env, RuntimeLocation location) => env.Set(HostVariables(location));

    private static string JoinPaths(IEnumerable<string> paths)
    {
        var list = paths.ToList();
        if (list.FirstOrDefault(p => p.Contains(',')) is { } bad)
        {
            throw new SandboxUnavailableException($"The path '{bad}' contains a comma, which Deno's permission flags cannot express. Move the runtime or cache to a path without commas.");
        }

        return string.Join(',', list);
    }

    private void Launch(RuntimeLocation location, string[] args, HostTransport transport)
    {
        // Beneath Deno's permissions, the operating system's wall where bubblewrap works; else the library runs as before.
        var program = location.DenoPath;
        // Tests of the OS layer run a host with Deno's broadest permissions; the layer still binds only what Deno would read.
        string[] denoArgs = _options.BroadDenoPermissionsForTests
            ? ["run", "--allow-all", .. args.Skip(1).Where(a => !a.StartsWith("--allow-", StringComparison.Ordinal))]
            : args;
        IEnumerable<string> arguments = denoArgs;
        if (_options.UseOsSandbox && OsSandbox.Bwrap is { } bwrap)
        {
            program = bwrap;
            arguments = OsSandbox.Arguments(location.DenoPath, denoArgs, HostVariables(location), bindsFrom: args, shareNetwork: transport.NeedsHostNetwork);
            OsSandbox.SayRootOnce(_logger);
        }
        else if (_options.UseOsSandbox)
        {
            OsSandbox.SayUnavailableOnce(_logger);
        }

        // Standard streams are untrusted: sandboxed code can write there. They are read as raw chunks into a fixed ring (a
        // line splitter would hold a line as long as the writer likes); only that tail is kept, for diagnostics.
        // Standard input carries the transport's one-time secret (if any) and is then closed: the host reads it before
        // any untrusted code exists, and that code finds it empty.
        var command = Cli.Wrap(program)
            .WithArguments(arguments)
            // bwrap starts with nothing and gives the host only its own variables (--setenv); Deno alone gets them directly.
            .WithEnvironmentVariables(program == location.DenoPath ? e => HostEnvironment(e, location) : OsSandbox.ClearEnvironment)
            .WithStandardInputPipe(transport.StandardInput.IsEmpty ? PipeSource.Null : PipeSource.FromBytes(transport.StandardInput))
            .WithStandardOutputPipe(_log.Target())
            .WithStandardErrorPipe(_log.Target())
            .WithValidation(CommandResultValidation.None);
        var task = program == location.DenoPath ? command.ExecuteAsync(_kill.Token) : OsSandbox.OnLauncherThread(() => command.ExecuteAsync(_kill.Token));
        ProcessId = task.ProcessId;
        Telemetry.Instruments.ProcessStarted();
        if (_options.UseCgroup) Cgroup = MemoryCgroup.TryCreate(ProcessId, MemoryBackstopBytes(_options));
        _ = task.Task.ContinueWith(t =>
        {
            MarkDead(Cgroup?.OutOfMemory == true
                ? "the host process passed its memory limit and the kernel ended it"
                : t.IsCompletedSuccessfully ? $"the host process exited with code {t.Result.ExitCode}" : "the host process was killed");
            Cgroup?.Remove();
            RemovePackageDirectory();
            Telemetry.Instruments.ProcessEnded(retired: _exiting, disposed: !_exiting && _deathReason == DisposedReason);
            _exited.TrySetResult();
        }, TaskScheduler.Default);
    }

    // Under bwrap the host is a child of the wrapper, which may have forked before the wrapper joined the memory
    // group: once the host is ready, its whole process tree joins.
    private void JoinCgroup()
    {
        if (Cgroup is null || !_options.UseOsSandbox || OsSandbox.Bwrap is null) return;
        foreach (var pid in Descendants(ProcessId)) Cgroup.Join(pid);
    }

    // Trace logging sees each chunk as it arrives (cut to a bounded preview): the host's output is untrusted text.
    private void TraceOutput(ReadOnlySpan<byte> chunk)
    {
        if (!_logger.IsEnabled(LogLevel.Trace)) return;
        _logger.LogTrace("sandbox host {Pid}: {Output}", ProcessId, System.Text.Encoding.UTF8.GetString(chunk[..Math.Min(chunk.Length, 1000)]));
    }

    private string LogTail()
    {
        return Tail(_log.ToString());
    }

    private static string Tail(string s) => s.Length <= 2000 ? s.Trim() : "…" + s[^2000..].Trim();

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteDirectory(string path)
    {
        try { Directory.Delete(path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
