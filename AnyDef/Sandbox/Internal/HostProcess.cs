using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// One Deno host process holding one Python interpreter, driven over a private channel (<see cref="HostTransport"/>):
/// its lifecycle (start, watchdog, death, crash diagnosis). The protocol (framing, ids, requests in flight) is its
/// <see cref="HostChannel"/>; each request gets exactly one outcome, even when the process dies.
/// </summary>
internal sealed partial class HostProcess : IAsyncDisposable, HostChannel.IOwner
{
    private readonly CancellationTokenSource _kill = new();
    private readonly OutputTail _log;
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private NetworkStream? _stream;
    private HostChannel? _channel;
    private Timer? _watchdog;
    private string? _deathReason;
    private volatile bool _exiting;

    private HostProcess(SandboxOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
        _log = new OutputTail(LogCapacity, TraceOutput);
    }

    /// <summary>The operating system id of the Deno process.</summary>
    public int ProcessId { get; private set; }

    /// <summary>Whether the process is still able to take requests.</summary>
    public bool IsAlive => _deathReason is null && !_exiting;

    /// <summary>Requests sent and not yet answered.</summary>
    public int InFlight => _channel?.InFlight ?? 0;

    /// <summary>How long a call keeps this process busy, on average (see <see cref="HostChannel.CallServiceTime"/>).</summary>
    public TimeSpan? CallServiceTime => _channel?.CallServiceTime;

    /// <summary>How long since a call was last answered (see <see cref="HostChannel.SinceLastAnswer"/>).</summary>
    public TimeSpan SinceLastAnswer => _channel?.SinceLastAnswer ?? TimeSpan.Zero;

    /// <summary>When this process last got a request, for least-recently-used eviction.</summary>
    public long LastUsed { get; private set; } = Environment.TickCount64;

    /// <summary>Completes when the process has ended, whatever the reason.</summary>
    public Task Exited => _exited.Task;

    public static async Task<HostProcess> StartAsync(RuntimeLocation location, string? snapshotPath, SandboxOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        HostScripts.Verify(location);
        var host = new HostProcess(options, logger);
        var transport = HostTransport.Listen(options);
        try
        {
            host.PackageDirectory = CreatePackageDirectory(location);
            var readable = ReadPermissions(location, transport.SocketPath, snapshotPath, host.PackageDirectory);
            var config = HostConfig(location, options, transport, snapshotPath, makeSnapshot: null, host.PackageDirectory);
            string[] args =
            [
                .. CommonArguments(options),
                $"--allow-read={JoinPaths(readable)}",
                .. transport.DenoPermissions,
                location.HostScript,
                config,
            ];
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            host.Launch(location, args, transport);
            var launched = System.Diagnostics.Stopwatch.GetTimestamp();

            using var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            startTimeout.CancelAfter(options.StartTimeout);
            try
            {
                host._stream = await transport.AcceptAsync(host.Exited, startTimeout.Token).ConfigureAwait(false);
            }
            catch (SandboxUnavailableException ex)
            {
                throw new SandboxUnavailableException($"{ex.Message} Host output: {host.LogTail()}");
            }

            var connected = System.Diagnostics.Stopwatch.GetTimestamp();
            host.Connect(host._stream);
            await host._channel!.Ready.WaitAsync(startTimeout.Token).ConfigureAwait(false);
            logger.LogDebug("Sandbox host {Pid} ready in {Total:0} ms: launch {Launch:0} ms, until connected {Connect:0} ms, until Python was ready {Ready:0} ms",
                host.ProcessId, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                System.Diagnostics.Stopwatch.GetElapsedTime(started, launched).TotalMilliseconds,
                System.Diagnostics.Stopwatch.GetElapsedTime(launched, connected).TotalMilliseconds,
                System.Diagnostics.Stopwatch.GetElapsedTime(connected).TotalMilliseconds);
            host.JoinCgroup();
            host._watchdog = new Timer(static s => ((HostProcess)s!).Watch(), host, 250, 250);
            return host;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw new SandboxUnavailableException($"The sandbox host did not become ready within {options.StartTimeout.TotalSeconds:0} s. Host output: {host.LogTail()}");
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        finally
        {
            // Once connected (or failed) nobody else may connect: the listener and the socket's folder go at once.
            transport.Dispose();
        }
    }

    // The socket folder of a starting host is named after the application's process id, so that the folders of an
    // application killed while hosts were starting can be told apart and removed by the next one.
    internal const string SocketDirectoryPrefix = "anydef-host-";

    /// <summary>Removes what applications that have ended (killed, never disposed) left behind: socket folders and cgroups.</summary>
    public static void SweepLeftovers()
    {
        try
        {
            foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), SocketDirectoryPrefix + "*"))
            {
                var owner = Path.GetFileName(dir)[SocketDirectoryPrefix.Length..].Split('-')[0];
                if (int.TryParse(owner, out var pid) && pid != Environment.ProcessId && !IsRunning(pid)) TryDeleteDirectory(dir);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a temp folder we cannot list has nothing of ours to remove.
        }

        MemoryCgroup.Sweep();
    }

    private static bool IsRunning(int pid)
    {
        if (OperatingSystem.IsLinux()) return Directory.Exists($"/proc/{pid}");
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    // Folders of hosts still starting when the application ends would otherwise stay behind in the temp folder.
    internal static readonly ConcurrentDictionary<string, byte> PendingSocketDirectories = CreatePendingRegistry();

    private static ConcurrentDictionary<string, byte> CreatePendingRegistry()
    {
        var pending = new ConcurrentDictionary<string, byte>();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var dir in pending.Keys) TryDeleteDirectory(dir);
        };
        return pending;
    }

    /// <summary>Runs the host once in its trusted snapshot mode: load Python, import the runtime, write the snapshot.</summary>
    public static async Task MakeSnapshotAsync(RuntimeLocation location, string snapshotPath, SandboxOptions options, CancellationToken cancellationToken)
    {
        HostScripts.Verify(location);
        var readable = ReadPermissions(location, socketPath: null, snapshotPath: null, packageDirectory: null);
        string[] args =
        [
            .. CommonArguments(options),
            $"--allow-read={JoinPaths(readable)}",
            $"--allow-write={snapshotPath}",
            location.HostScript,
            HostConfig(location, options, transport: null, snapshotPath: null, makeSnapshot: snapshotPath),
        ];
        var stderr = new OutputTail(LogCapacity);
        var result = await Cli.Wrap(location.DenoPath)
            .WithArguments(args)
            .WithEnvironmentVariables(e => HostEnvironment(e, location))
            .WithStandardOutputPipe(stderr.Target())
            .WithStandardErrorPipe(stderr.Target())
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0 || !File.Exists(snapshotPath))
        {
            throw new SandboxUnavailableException($"Making the Python snapshot failed (exit code {result.ExitCode}): {Tail(stderr.ToString())}. " +
                $"Set {nameof(SandboxOptions)}.{nameof(SandboxOptions.UseSnapshot)} to false to start without one.");
        }
    }

    // The protocol runs over whatever stream connected the host; a host that died while connecting has failed already.
    private void Connect(Stream stream)
    {
        var channel = new HostChannel(stream, _options, this);
        // A full fence: either this sees the death, or the death sees the channel.
        Interlocked.Exchange(ref _channel, channel);
        if (_deathReason is { } reason) channel.FailStart(new SandboxUnavailableException($"The sandbox host ended while starting ({reason}). Host output: {LogTail()}"));
        channel.Start(ProcessId);
    }

    /// <summary>Sends one request; the task ends with the reply, a typed failure, or the caller's cancellation.</summary>
    public Task<HostReply> SendAsync(string op, TimeSpan timeout, CancellationToken cancellationToken, string? code = null, string? function = null, string? args = null)
    {
        if (cancellationToken.IsCancellationRequested) return Task.FromCanceled<HostReply>(cancellationToken);
        if (_deathReason is not null || _channel is not { } channel)
        {
            // A retired process never ran this request: it is safe to send to another.
            if (_exiting) return Task.FromResult(HostReply.Failure("requeue", _deathReason ?? "the sandbox process is ending"));
            return Task.FromException<HostReply>(Crashed());
        }

        Volatile.Write(ref _lastSend, Environment.TickCount64);
        LastUsed = Environment.TickCount64;
        return channel.SendAsync(op, timeout, cancellationToken, code, function, args);
    }

    /// <summary>Sends calls, one per packed argument list, in one write; see <see cref="HostChannel.SendCallsAsync"/>.</summary>
    public Task<HostChannel.CallGroup> SendCallsAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested || _deathReason is not null || _channel is null)
        {
            var group = new HostChannel.CallGroup(0, args.Count);
            for (var i = 0; i < args.Count; i++)
            {
                if (cancellationToken.IsCancellationRequested) group.Fail(i, new OperationCanceledException("The sandbox call was cancelled.", cancellationToken));
                // A retired process never ran these calls: they are safe to send to another.
                else if (_exiting) group.Answer(i, HostReply.Failure("requeue", _deathReason ?? "the sandbox process is ending"));
                else group.Fail(i, Crashed());
            }

            return Task.FromResult(group);
        }

        Volatile.Write(ref _lastSend, Environment.TickCount64);
        LastUsed = Environment.TickCount64;
        return _channel.SendCallsAsync(args, timeout, cancellationToken);
    }

    void HostChannel.IOwner.Exiting() => _exiting = true;

    void HostChannel.IOwner.Broken(string reason) => MarkDead(reason);

    // A host that did not announce its exit has crashed or been killed: give the process a moment to end, so the
    // error can name the real cause (exit code, its last output, the kernel's memory verdict).
    Task HostChannel.IOwner.SettleAsync() => _exiting ? Task.CompletedTask : Task.WhenAny(_exited.Task, Task.Delay(1000));

    private void Watch()
    {
        try
        {
            WatchCpu();
            if (_deathReason is not null || _channel?.LongestTimeoutMilliseconds() is not { } longest) return;

            // The host waits for the interrupt to be able to act (Python entering the call) for up to EntryWait before it
            // counts the grace; only past all of that is a silent host stuck.
            var grace = (long)_options.InterruptGrace.TotalMilliseconds;
            var limit = longest + Math.Max(5000, grace * 10) + grace + 1000;
            if (Environment.TickCount64 - _channel.LastProgress > limit)
            {
                MarkDead("the sandbox host stopped answering and was killed");
            }
        }
        catch (Exception ex)
        {
            // A timer callback must never throw: that would end the application.
            _logger.LogError(ex, "The watchdog of sandbox host {Pid} failed", ProcessId);
        }
    }

    private AnyDefException Crashed() => Cgroup?.OutOfMemory == true || LogTail().Contains("out of memory", StringComparison.OrdinalIgnoreCase)
        ? new SandboxMemoryException($"The sandbox process ran out of memory (its limit is {MemoryBackstopBytes(_options) / (1024 * 1024)} MiB) and ended. " +
            $"It has been replaced. Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory.")
        : new SandboxCrashedException($"The sandbox process ended while the call was in flight ({_deathReason}). It has been replaced; call again.", LogTail());

    /// <summary>Fails every request still in flight and makes sure the process is gone.</summary>
    public void MarkDead(string reason)
    {
        if (Interlocked.CompareExchange(ref _deathReason, reason, null) is not null) return;
        try
        {
            _logger.LogDebug("Sandbox host {Pid} ended: {Reason}", ProcessId, reason);
        }
        catch (Exception)
        {
            // A failing logger must not keep the calls in flight from their outcome.
        }

        // Kill first: nothing the host sends from here on is read.
        try { _kill.Cancel(); } catch (ObjectDisposedException) { }
        // After the host announced its exit it starts nothing new: the requests in flight are safe to send elsewhere.
        _channel?.FailAll(_exiting, reason, Crashed);
        _channel?.FailStart(new SandboxUnavailableException($"The sandbox host ended while starting ({reason}). Host output: {LogTail()}"));
        _watchdog?.Dispose();
        _stream?.Dispose();
    }

    /// <summary>Ends an idle process on purpose; a request that reaches it meanwhile is handed back to be sent elsewhere.</summary>
    public ValueTask RetireAsync()
    {
        _exiting = true;
        return DisposeAsync();
    }

    private const string DisposedReason = "the sandbox was disposed";

    public async ValueTask DisposeAsync()
    {
        MarkDead(DisposedReason);
        await Exited.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
        if (ProcessId == 0) RemovePackageDirectory();
    }
}
