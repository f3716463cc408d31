using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using CliWrap;
using Microsoft.Extensions.Logging;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// One Deno host process holding one Python interpreter, driven over a private Unix socket. Requests are pipelined
/// and matched to replies by id; each request gets exactly one outcome, even when the process dies.
/// </summary>
internal sealed partial class HostProcess : IAsyncDisposable
{
    private static long s_nextId;
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly CancellationTokenSource _kill = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SandboxOptions _options;
    private readonly ILogger _logger;
    private NetworkStream? _stream;
    private Timer? _watchdog;
    private long _lastProgress = Environment.TickCount64;
    private string? _deathReason;
    private volatile bool _exiting;

    private sealed record Pending(TaskCompletionSource<HostReply> Completion, TimeSpan Timeout);

    private HostProcess(SandboxOptions options, ILogger logger)
    {
        _options = options;
        _logger = logger;
    }

    /// <summary>The operating system id of the Deno process.</summary>
    public int ProcessId { get; private set; }

    /// <summary>Whether the process is still able to take requests.</summary>
    public bool IsAlive => _deathReason is null && !_exiting;

    /// <summary>Requests sent and not yet answered.</summary>
    public int InFlight => _pending.Count;

    /// <summary>When this process last got a request, for least-recently-used eviction.</summary>
    public long LastUsed { get; private set; } = Environment.TickCount64;

    /// <summary>Completes when the process has ended, whatever the reason.</summary>
    public Task Exited => _exited.Task;

    public static async Task<HostProcess> StartAsync(RuntimeLocation location, string? snapshotPath, SandboxOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var socketDir = Directory.CreateTempSubdirectory("anydef-").FullName;
        PendingSocketDirectories.TryAdd(socketDir, 0);
        var socketPath = Path.Combine(socketDir, "host.sock");
        var host = new HostProcess(options, logger);
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(socketPath));
            listener.Listen(1);

            var readable = location.WorkerReadable.Append(location.HostScript).Append(socketPath);
            if (snapshotPath is not null) readable = readable.Append(snapshotPath);
            var config = HostConfig(location, options, socketPath, snapshotPath, makeSnapshot: null);
            string[] args =
            [
                .. CommonArguments(options),
                // Deno wants read, write and net permission on a Unix socket path to connect to it; the socket is
                // deleted once connected, so these name nothing that exists afterwards.
                $"--allow-read={JoinPaths(readable)}",
                $"--allow-write={socketPath}",
                $"--allow-net=unix:{socketPath}",
                location.HostScript,
                config,
            ];
            host.Launch(location, args);

            using var startTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            startTimeout.CancelAfter(options.StartTimeout);
            var accept = listener.AcceptAsync(startTimeout.Token).AsTask();
            if (await Task.WhenAny(accept, host.Exited).ConfigureAwait(false) != accept)
            {
                throw new SandboxUnavailableException($"The sandbox host exited before it connected. Host output: {host.LogTail()}");
            }

            host._stream = new NetworkStream(await accept.ConfigureAwait(false), ownsSocket: true);
            _ = host.ReadLoopAsync();
            await host._ready.Task.WaitAsync(startTimeout.Token).ConfigureAwait(false);
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
            // Once connected (or failed) nobody else may connect: the socket's folder goes at once.
            listener.Dispose();
            TryDelete(socketPath);
            TryDeleteDirectory(socketDir);
            PendingSocketDirectories.TryRemove(socketDir, out _);
        }
    }

    // Folders of hosts still starting when the application ends would otherwise stay behind in the temp folder.
    private static readonly ConcurrentDictionary<string, byte> PendingSocketDirectories = CreatePendingRegistry();

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
        var readable = location.WorkerReadable.Append(location.HostScript);
        string[] args =
        [
            .. CommonArguments(options),
            $"--allow-read={JoinPaths(readable)}",
            $"--allow-write={snapshotPath}",
            location.HostScript,
            HostConfig(location, options, socketPath: "", snapshotPath: null, makeSnapshot: snapshotPath),
        ];
        var stderr = new StringBuilder();
        var result = await Cli.Wrap(location.DenoPath)
            .WithArguments(args)
            .WithEnvironmentVariables(e => HostEnvironment(e, location))
            .WithStandardOutputPipe(PipeTarget.ToStringBuilder(stderr))
            .WithStandardErrorPipe(PipeTarget.ToStringBuilder(stderr))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(cancellationToken)
            .ConfigureAwait(false);
        if (result.ExitCode != 0 || !File.Exists(snapshotPath))
        {
            throw new SandboxUnavailableException($"Making the Python snapshot failed (exit code {result.ExitCode}): {Tail(stderr.ToString())}. " +
                $"Set {nameof(SandboxOptions)}.{nameof(SandboxOptions.UseSnapshot)} to false to start without one.");
        }
    }

    /// <summary>Sends one request; the task ends with the reply, a typed failure, or the caller's cancellation.</summary>
    public async Task<HostReply> SendAsync(string op, TimeSpan timeout, CancellationToken cancellationToken, string? code = null, string? function = null, string? args = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_deathReason is not null)
        {
            // A retired process never ran this request: it is safe to send to another.
            if (_exiting) return new HostReply(false, null, "", "requeue", _deathReason);
            throw Crashed();
        }

        var id = Interlocked.Increment(ref s_nextId);
        var pending = new Pending(new TaskCompletionSource<HostReply>(TaskCreationOptions.RunContinuationsAsynchronously), timeout);
        if (_pending.IsEmpty) Volatile.Write(ref _lastProgress, Environment.TickCount64);
        _pending[id] = pending;
        Volatile.Write(ref _lastSend, Environment.TickCount64);
        LastUsed = Environment.TickCount64;

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("id", id);
            w.WriteString("op", op);
            if (code is not null) w.WriteString("code", code);
            if (function is not null) w.WriteString("function", function);
            if (args is not null) w.WriteString("args", args);
            w.WriteNumber("timeoutMs", (long)timeout.TotalMilliseconds);
            w.WriteEndObject();
        }
        buffer.Write("\n"u8);

        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(() => Cancel(id, cancellationToken))
            : default;
        try
        {
            await WriteAsync(buffer.WrittenMemory).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            MarkDead("the channel to the sandbox host broke: " + ex.Message);
        }

        return await pending.Completion.Task.ConfigureAwait(false);
    }

    private void Cancel(long id, CancellationToken token)
    {
        if (!_pending.TryRemove(id, out var p)) return;
        p.Completion.TrySetCanceled(token);
        var line = Encoding.UTF8.GetBytes($"{{\"id\":0,\"op\":\"cancel\",\"target\":{id}}}\n");
        _ = WriteAsync(line).ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes)
    {
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await _stream!.WriteAsync(bytes).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            using var reader = new StreamReader(_stream!, Encoding.UTF8, false, 1 << 16, leaveOpen: true);
            while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0) continue;
                using var doc = JsonDocument.Parse(line);
                var root = doc.RootElement;
                if (root.TryGetProperty("ready", out _))
                {
                    _ready.TrySetResult();
                    continue;
                }

                if (root.TryGetProperty("exiting", out var exiting) && exiting.GetBoolean()) _exiting = true;
                var id = root.GetProperty("id").GetInt64();
                Volatile.Write(ref _lastProgress, Environment.TickCount64);
                if (_pending.TryRemove(id, out var p)) p.Completion.TrySetResult(HostReply.Parse(root));
            }

            await SettleAsync().ConfigureAwait(false);
            MarkDead("the sandbox host closed its channel");
        }
        catch (Exception ex)
        {
            await SettleAsync().ConfigureAwait(false);
            MarkDead("the channel to the sandbox host failed: " + ex.Message);
        }
    }

    // A host that did not announce its exit has crashed or been killed: give the process a moment to end, so the
    // error can name the real cause (exit code, its last output, the kernel's memory verdict).
    private Task SettleAsync() => _exiting ? Task.CompletedTask : Task.WhenAny(_exited.Task, Task.Delay(1000));

    private void Watch()
    {
        WatchCpu();
        if (_pending.IsEmpty || _deathReason is not null) return;
        var longest = _pending.Values.Select(p => p.Timeout).DefaultIfEmpty().Max();
        var limit = longest + _options.InterruptGrace + TimeSpan.FromSeconds(1);
        if (Environment.TickCount64 - Volatile.Read(ref _lastProgress) > limit.TotalMilliseconds)
        {
            MarkDead("the sandbox host stopped answering and was killed");
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
        _logger.LogDebug("Sandbox host {Pid} ended: {Reason}", ProcessId, reason);
        foreach (var id in _pending.Keys)
        {
            if (!_pending.TryRemove(id, out var p)) continue;
            // After the host announced its exit it starts nothing new: those requests are safe to send elsewhere.
            if (_exiting) p.Completion.TrySetResult(new HostReply(false, null, "", "requeue", reason));
            else p.Completion.TrySetException(Crashed());
        }

        _ready.TrySetException(new SandboxUnavailableException($"The sandbox host ended while starting ({reason}). Host output: {LogTail()}"));
        _watchdog?.Dispose();
        try { _kill.Cancel(); } catch (ObjectDisposedException) { }
        _stream?.Dispose();
    }

    /// <summary>Ends an idle process on purpose; a request that reaches it meanwhile is handed back to be sent elsewhere.</summary>
    public ValueTask RetireAsync()
    {
        _exiting = true;
        return DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        MarkDead("the sandbox was disposed");
        await Exited.WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
    }
}
