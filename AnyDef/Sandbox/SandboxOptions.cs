namespace AnyDefNet;

/// <summary>Settings of the Python sandbox: where its runtime lives, how many processes it keeps and its limits.</summary>
/// <remarks>Immutable; change a copy with <c>with</c>. Two equal option values share one process pool.</remarks>
public sealed record SandboxOptions
{
    /// <summary>The default settings, suited to a 2-core machine.</summary>
    public static SandboxOptions Default { get; } = new();

    /// <summary>The folder holding <c>node_modules</c> with the pinned <c>deno</c> and <c>pyodide</c> packages.</summary>
    /// <value>The default is null: the <c>ANYDEF_RUNTIME_DIR</c> environment variable, then <c>anydef-runtime/</c> beside a published
    /// application (<c>dotnet publish -r RID</c>), then the folder this repository's build
    /// installed, then the per-user cache (installed there with npm on first use when <see cref="InstallRuntime"/> is on).</value>
    public string? RuntimeDirectory { get; init; }

    /// <summary>The folder holding the host scripts <c>host.ts</c> and <c>worker.ts</c>.</summary>
    /// <value>The default is null: the scripts embedded in the library, written once to the cache folder.</value>
    public string? HostDirectory { get; init; }

    /// <summary>The folder for the interpreter snapshot and Deno's own cache.</summary>
    /// <value>The default is null: <c>ANYDEF_CACHE_DIR</c>, else <c>anydef</c> under the user's local application data.</value>
    public string? CacheDirectory { get; init; }

    /// <summary>Whether a missing runtime is installed (with npm, once) into the per-user cache.</summary>
    /// <value>The default is true; <c>ANYDEF_NO_INSTALL=1</c> turns it off.</value>
    public bool InstallRuntime { get; init; } = true;

    /// <summary>The most host processes alive at once, starting ones and spares included. A call for a function without a
    /// process waits (within its timeout) for a slot: the least recently used idle process is ended to make room.</summary>
    /// <value>The default is 8.</value>
    public int MaxProcesses { get; init; } = 8;

    /// <summary>How many started, idle interpreters wait for the next new function.</summary>
    /// <value>The default is 1. Zero starts every function's process on demand.</value>
    public int SpareProcesses { get; init; } = 1;

    /// <summary>The WebAssembly heap cap of each process, in MiB; the process is recycled after a MemoryError.</summary>
    /// <value>The default is 512 MiB.</value>
    public int MemoryLimitMegabytes { get; init; } = 512;

    /// <summary>Whether each host process is put in its own memory cgroup (Linux, where cgroups are writable), limited to
    /// twice <see cref="MemoryLimitMegabytes"/> plus 256 MiB, so the kernel ends a host that passes it.</summary>
    /// <value>The default is true; where cgroups are not available it has no effect.</value>
    public bool UseCgroup { get; init; } = true;

    /// <summary>How long a call may run after its interrupt could act (from when Python runs the call's own code) before
    /// its process is ended.</summary>
    /// <value>The default is 250 ms; at most 10 minutes.</value>
    public TimeSpan InterruptGrace { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long a new process may take to start and load Python, once it is allowed to start.</summary>
    /// <value>The default is 60 seconds; at most one day.</value>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Whether processes start from a memory snapshot of an initialised interpreter (made once per runtime version).</summary>
    /// <value>The default is true.</value>
    public bool UseSnapshot { get; init; } = true;

    /// <summary>The largest result a call (or one input of a batch) may return, in bytes of its JSON text; a larger one
    /// fails with <see cref="ResultTooLargeException"/> and the process stays usable.</summary>
    /// <value>The default is 32 MiB; it must be between 1 KiB and 256 MiB. The library reads no host reply larger than about
    /// three times this (for escaping and framing): a larger one ends that process as a crash.</value>
    public int MaxResultBytes { get; init; } = 32 * 1024 * 1024;

    /// <summary>Python packages every function in this sandbox may import (added to each function's own <see cref="AnyDefOptions.Packages"/>).</summary>
    /// <value>The default is none: the standard library only.</value>
    /// <remarks>Packages are fetched and verified by the library, cached per user, and only read by the sandbox, which has no network.</remarks>
    public PackageSet Packages { get; init; } = PackageSet.Empty;

    /// <summary>Where Pyodide's package files are fetched from: a URL (a mirror of the Pyodide distribution) or a local folder.</summary>
    /// <value>The default is null: <c>ANYDEF_PACKAGE_INDEX</c>, else (with no wheel folder) the <c>anydef-runtime/packages/</c> folder that <c>dotnet publish -r RID</c> put beside the application, read in place, else the official distribution of the pinned Pyodide version.</value>
    public string? PackageIndex { get; init; }

    /// <summary>A folder of pure-Python wheels (<c>*.whl</c>, for example from <c>pip download</c>) for packages Pyodide does not ship.</summary>
    /// <value>The default is null: <c>ANYDEF_WHEEL_DIR</c>, else none.</value>
    public string? WheelDirectory { get; init; }

    /// <summary>The <c>pyodide-lock.json</c> that names the available packages, their files, dependencies and SHA-256.</summary>
    /// <value>The default is null: the pinned Pyodide's own lock file.</value>
    public string? PackageLockFile { get; init; }

    /// <summary>Whether each host runs inside an operating-system sandbox (bubblewrap: new user, mount, PID, IPC and network
    /// namespaces, read-only binds of exactly the runtime files, an empty environment) beneath Deno's own permissions.</summary>
    /// <value>The default is true; where <c>bwrap</c> is missing or cannot create namespaces, hosts run without it and the
    /// library logs that once.</value>
    public bool UseOsSandbox { get; init; } = true;

    /// <summary>The private channel between the library and each host process.</summary>
    /// <value>The default is <see cref="SandboxTransport.Automatic"/>: loopback TCP with a one-time secret on Windows, a Unix
    /// socket elsewhere.</value>
    /// <remarks>With <see cref="SandboxTransport.Tcp"/> on Linux, the operating-system layer (<see cref="UseOsSandbox"/>) keeps every
    /// namespace but the network one, so that the host can reach the library's 127.0.0.1; Deno's permission then names only
    /// that address and port, and the Python worker has no network permission at all.</remarks>
    public SandboxTransport Transport { get; init; } = SandboxTransport.Automatic;

    /// <summary>The most processes one function may have. When calls of a function queue in every one of its processes
    /// (more than about two milliseconds of Python each, a call running for longer than 20 ms, or a batch's chunk while
    /// another runs), the sandbox starts another one for it (from a spare or a free slot within
    /// <see cref="MaxProcesses"/>) and spreads the calls; quick calls keep going to the function's first process while
    /// its queue is short. Idle extra processes are the first ended when <see cref="MaxProcesses"/> needs room.</summary>
    /// <value>The default is the number of processor cores, at most 4. One keeps every function in a single process.</value>
    /// <remarks>Every process of a function runs that function's code only, each in its own interpreter, so module-level
    /// state is never shared between them.</remarks>
    public int MaxProcessesPerFunction { get; init; } = Math.Min(Environment.ProcessorCount, 4);

    // How much queued work makes a process's queue long (see MaxProcessesPerFunction); changed only by tests.
    internal TimeSpan QueueTarget { get; init; } = TimeSpan.FromMilliseconds(2);

    // For tests of the OS layer only: the host and its Python worker get Deno's broadest permissions, so that only the
    // operating system's wall stands between the code and the machine.
    internal bool BroadDenoPermissionsForTests { get; init; }

    // For tests of the TCP transport only: told the port of each listener before its host is launched.
    internal Action<int>? TcpListeningForTests { get; init; }

    /// <summary>The transport hosts started with these settings use on this operating system.</summary>
    internal SandboxTransport EffectiveTransport => Transport == SandboxTransport.Automatic
        ? (OperatingSystem.IsWindows() ? SandboxTransport.Tcp : SandboxTransport.UnixSocket)
        : Transport;

    internal void Validate()
    {
        var errors = Errors("");
        if (errors.Count > 0) throw new ArgumentOutOfRangeException(null, "Invalid sandbox options: " + string.Join(" ", errors));
    }

    /// <summary>Every problem with these settings, each naming its setting after <paramref name="prefix"/> (a configuration path).</summary>
    internal List<string> Errors(string prefix)
    {
        var errors = new List<string>();
        if (MaxProcesses < 1) errors.Add($"{prefix}{nameof(MaxProcesses)} must be at least 1 (was {MaxProcesses}).");
        if (SpareProcesses < 0) errors.Add($"{prefix}{nameof(SpareProcesses)} must not be negative (was {SpareProcesses}).");
        if (MemoryLimitMegabytes is < 64 or > 4096) errors.Add($"{prefix}{nameof(MemoryLimitMegabytes)} must be between 64 and 4096 (was {MemoryLimitMegabytes}).");
        if (InterruptGrace < TimeSpan.Zero || InterruptGrace > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{prefix}{nameof(InterruptGrace)} must not be negative and at most 10 minutes (was {InterruptGrace}).");
        }

        if (StartTimeout <= TimeSpan.Zero || StartTimeout > TimeSpan.FromDays(1)) errors.Add($"{prefix}{nameof(StartTimeout)} must be positive and at most one day (was {StartTimeout}).");
        if (Packages is null) errors.Add($"{prefix}{nameof(Packages)} must not be null (use {nameof(PackageSet)}.{nameof(PackageSet.Empty)}).");
        if (PackageIndex is { Length: 0 }) errors.Add($"{prefix}{nameof(PackageIndex)} must not be empty (leave it null for the default).");
        if (MaxProcessesPerFunction < 1) errors.Add($"{prefix}{nameof(MaxProcessesPerFunction)} must be at least 1 (was {MaxProcessesPerFunction}).");
        if (!Enum.IsDefined(Transport)) errors.Add($"{prefix}{nameof(Transport)} must be one of {string.Join(", ", Enum.GetNames<SandboxTransport>())} (was {(int)Transport}).");
        if (Transport == SandboxTransport.UnixSocket && OperatingSystem.IsWindows())
        {
            errors.Add($"{prefix}{nameof(Transport)} cannot be {nameof(SandboxTransport.UnixSocket)} on Windows, where Deno has no Unix sockets: use {nameof(SandboxTransport.Automatic)} or {nameof(SandboxTransport.Tcp)}.");
        }

        if (MaxResultBytes is < 1024 or > 256 * 1024 * 1024) errors.Add($"{prefix}{nameof(MaxResultBytes)} must be between 1024 and {256 * 1024 * 1024} (was {MaxResultBytes}).");
        return errors;
    }
}
