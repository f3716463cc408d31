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
/// One Deno host process holding one Python interpreter, driven over a private channel (<see cref="HostTransport"/>). Requests are pipelined
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

    private sealed record Pending(TaskCompletionSource<HostReply> Completion, TimeSpan Timeout, string Op);

    // A partial reply that grew by this much since the last progress is a result still arriving.
    private const int ProgressBytes = 64 * 1024;

    // Room beside the result in one reply: the captured output, a traceback, the envelope.
    private const int FramingBytes = 1024 * 1024;

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
            _ = host.ReadLoopAsync();
            await host._ready.Task.WaitAsync(startTimeout.Token).ConfigureAwait(false);
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
        var readable = ReadPermissions(location, socketPath: null, snapshotPath: null, packageDirectory: null);
        string[] args =
        [
            .. CommonArguments(options),
            $"--allow-read={JoinPaths(readable)}",
            $"--allow-write={snapshotPath}",
            location.HostScript,
            HostConfig(location, options, transport: null, snapshotPath: null, makeSnapshot: snapshotPath),
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
            if (_exiting) return HostReply.Failure("requeue", _deathReason);
            throw Crashed();
        }

        var id = Interlocked.Increment(ref s_nextId);
        var pending = new Pending(new TaskCompletionSource<HostReply>(TaskCreationOptions.RunContinuationsAsynchronously), timeout, op);
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
            w.WriteNumber("timeoutMs", Timeouts.Milliseconds(timeout));
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

    /// <summary>The most bytes one reply line may have: the result limit with room for escaping (a JSON text inside a
    /// JSON string, UTF-8) and framing. A longer line is a broken host.</summary>
    internal static long MaxLineBytes(SandboxOptions options) => Math.Min(Array.MaxLength - 1L, (long)options.MaxResultBytes * 3 + FramingBytes);

    // Lines are read into a small buffer; a line longer than it is kept as a chain of chunks (never copied to grow)
    // and parsed where it lies, so a large reply costs about its own size.
    private const int SmallBuffer = 64 * 1024;
    private const int LargeChunk = 1024 * 1024;

    private async Task ReadLoopAsync()
    {
        var limit = MaxLineBytes(_options);
        var buffer = new byte[SmallBuffer];
        var chunks = new List<byte[]>();
        long chunked = 0;
        int start = 0, end = 0, scanned = 0;
        long marked = 0;
        try
        {
            while (true)
            {
                var newline = buffer.AsSpan(scanned, end - scanned).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    var lineEnd = scanned + newline;
                    var ok = chunks.Count == 0
                        ? Handle(new ReadOnlySequence<byte>(buffer, start, lineEnd - start))
                        : Handle(Chain(chunks, buffer, lineEnd));
                    if (!ok) return;
                    if (chunks.Count > 0)
                    {
                        // The memory of a large reply goes as soon as it has been read.
                        chunks.Clear();
                        chunked = 0;
                        var rest = end - (lineEnd + 1);
                        var small = new byte[Math.Max(SmallBuffer, rest)];
                        Buffer.BlockCopy(buffer, lineEnd + 1, small, 0, rest);
                        buffer = small;
                        start = scanned = 0;
                        end = rest;
                    }
                    else
                    {
                        start = scanned = lineEnd + 1;
                    }

                    marked = 0;
                    continue;
                }

                scanned = end;
                var pending = chunked + (end - start);
                if (pending > limit)
                {
                    MarkDead($"the sandbox host sent a reply of more than {limit} bytes, past the result limit of {_options.MaxResultBytes} bytes " +
                        $"({nameof(SandboxOptions)}.{nameof(SandboxOptions.MaxResultBytes)}) with room for framing");
                    return;
                }

                if (pending - marked >= ProgressBytes && !_pending.IsEmpty)
                {
                    // A large result still arriving: the host is answering.
                    Volatile.Write(ref _lastProgress, Environment.TickCount64);
                    marked = pending;
                }

                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        end -= start;
                        scanned = end;
                        start = 0;
                    }
                    else
                    {
                        // A full buffer that holds part of one line becomes a link of its chain.
                        chunks.Add(buffer);
                        chunked += end;
                        buffer = GC.AllocateUninitializedArray<byte>(LargeChunk);
                        start = end = scanned = 0;
                    }
                }

                var read = await _stream!.ReadAsync(buffer.AsMemory(end)).ConfigureAwait(false);
                if (read == 0) break;
                end += read;
            }

            await SettleAsync().ConfigureAwait(false);
            MarkDead("the sandbox host closed its channel");
        }
        catch (Exception ex)
        {
            try
            {
                await SettleAsync().ConfigureAwait(false);
            }
            finally
            {
                MarkDead("the channel to the sandbox host failed: " + ex.Message);
            }
        }
    }

    private static ReadOnlySequence<byte> Chain(List<byte[]> chunks, byte[] last, int lastLength)
    {
        var first = new Link(chunks[0], 0);
        var tail = first;
        foreach (var chunk in chunks.Skip(1)) tail = tail.Append(chunk);
        tail = tail.Append(last.AsMemory(0, lastLength));
        return new ReadOnlySequence<byte>(first, 0, tail, lastLength);
    }

    private sealed class Link : ReadOnlySequenceSegment<byte>
    {
        public Link(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Link Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Link(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    /// <summary>Gives one line to the request it answers; false when the line was not understood and the host is ended.</summary>
    private bool Handle(ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsEmpty) return true;
        if (HostReply.ReadLine(bytes, out var problem) is not { } line)
        {
            MarkDead($"the sandbox host sent {problem}");
            return false;
        }

        if (line.Ready)
        {
            _ready.TrySetResult();
            return true;
        }

        if (line.Exiting) _exiting = true;
        if (line.Id is not { } id)
        {
            MarkDead("the sandbox host sent a reply without a numeric \"id\"");
            return false;
        }

        // A reply for no request we hold (a cancelled one, or the host's own notice) is not progress.
        if (!_pending.TryGetValue(id, out var pending)) return true;
        if (HostReply.From(line, pending.Op, out problem) is not { } reply)
        {
            MarkDead($"the sandbox host sent {problem} for a '{pending.Op}' request");
            return false;
        }

        Volatile.Write(ref _lastProgress, Environment.TickCount64);
        if (_pending.TryRemove(new(id, pending)))
        {
            if (!pending.Completion.TrySetResult(reply)) reply.Dispose();
        }
        else
        {
            reply.Dispose();
        }

        return true;
    }

    // A host that did not announce its exit has crashed or been killed: give the process a moment to end, so the
    // error can name the real cause (exit code, its last output, the kernel's memory verdict).
    private Task SettleAsync() => _exiting ? Task.CompletedTask : Task.WhenAny(_exited.Task, Task.Delay(1000));

    private void Watch()
    {
        try
        {
            WatchCpu();
            if (_pending.IsEmpty || _deathReason is not null) return;
            long longest = 0;
            foreach (var p in _pending.Values)
            {
                // A call without a deadline may run as long as it likes (it can still be cancelled).
                if (Timeouts.IsInfinite(p.Timeout)) return;
                longest = Math.Max(longest, Timeouts.Milliseconds(p.Timeout));
            }

            // The host waits for the interrupt to be able to act (Python entering the call) for up to EntryWait before it
            // counts the grace; only past all of that is a silent host stuck.
            var grace = (long)_options.InterruptGrace.TotalMilliseconds;
            var limit = longest + Math.Max(5000, grace * 10) + grace + 1000;
            if (Environment.TickCount64 - Volatile.Read(ref _lastProgress) > limit)
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
        foreach (var id in _pending.Keys)
        {
            if (!_pending.TryRemove(id, out var p)) continue;
            // After the host announced its exit it starts nothing new: those requests are safe to send elsewhere.
            if (_exiting) p.Completion.TrySetResult(HostReply.Failure("requeue", reason));
            else p.Completion.TrySetException(Crashed());
        }

        _ready.TrySetException(new SandboxUnavailableException($"The sandbox host ended while starting ({reason}). Host output: {LogTail()}"));
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
