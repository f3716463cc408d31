using System.Buffers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text.Json;
using AnyDefNet.Internal;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// The library's side of the protocol with one host, in one place: newline-delimited JSON requests and replies, ids,
/// the requests in flight and the outcome each one gets. The process around it (start, watchdog, death, crash
/// diagnosis) is <see cref="HostProcess"/>; this type only ever reports a broken channel to it.
/// </summary>
/// <remarks>
/// Requests written while another write is under way leave with it (one socket write for many pipelined calls);
/// replies are read by a thread of the channel's own, waiting in poll(2) for the kernel to wake it, so that no
/// thread-pool thread spins waiting for the socket and a reply costs one hand-over to its caller.
/// </remarks>
internal sealed class HostChannel
{
    private static long s_nextId;
    private readonly ConcurrentDictionary<long, Pending> _pending = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly SandboxOptions _options;
    private readonly IOwner _owner;
    private readonly Lock _outLock = new();
    private ArrayBufferWriter<byte> _out = new(4096);
    private ArrayBufferWriter<byte> _flushing = new(4096);
    private Utf8JsonWriter? _json;
    private bool _writing;
    private long _lastProgress = Environment.TickCount64;

    // How long a call's Python keeps this host busy, in µs, as its worker measured it, smoothed over the last few groups
    // of calls; zero until a group has been answered.
    private long _callMicroseconds;

    // When a call was last answered, or calls were sent to a host with none in flight (Stopwatch ticks).
    private long _answeredAt;

    // A partial reply that grew by this much since the last progress is a result still arriving.
    private const int ProgressBytes = 64 * 1024;

    // Room beside the result in one reply: the captured output, a traceback, the envelope.
    private const int FramingBytes = 1024 * 1024;

    // Lines are read into a small buffer; a line longer than it is kept as a chain of chunks (never copied to grow)
    // and parsed where it lies, so a large reply costs about its own size.
    private const int SmallBuffer = 64 * 1024;
    private const int LargeChunk = 1024 * 1024;

    /// <summary>What the channel tells the process it belongs to.</summary>
    public interface IOwner
    {
        /// <summary>The host announced that it is ending: nothing more may be sent to it.</summary>
        void Exiting();

        /// <summary>The channel broke or the host sent what cannot be understood: the process must end.</summary>
        void Broken(string reason);

        /// <summary>Waits, briefly, for a host that closed its channel without notice to end, so its death can be diagnosed.</summary>
        Task SettleAsync();
    }

    // A request in flight: one of a group of calls (its slot), or a single request of another kind (its completion).
    private sealed record Pending(TaskCompletionSource<HostReply>? Completion, TimeSpan Timeout, string Op, CallGroup? Group = null, int Index = 0)
    {
        public BridgeProfile.Sample? Profile { get; init; }

        public void Answer(HostReply reply)
        {
            if (Group is { } group) group.Answer(Index, reply);
            else if (!Completion!.TrySetResult(reply)) reply.Dispose();
        }

        public void Fail(Exception error)
        {
            if (Group is { } group) group.Fail(Index, error);
            else if (error is OperationCanceledException oce) Completion!.TrySetCanceled(oce.CancellationToken);
            else Completion!.TrySetException(error);
        }
    }

    public HostChannel(Stream stream, SandboxOptions options, IOwner owner)
    {
        _stream = stream;
        _socket = (stream as NetworkStream)?.Socket;
        _options = options;
        _owner = owner;
    }

    /// <summary>Completes when the host said it is ready (its interpreter loaded).</summary>
    public Task Ready => _ready.Task;

    /// <summary>Requests sent and not yet answered.</summary>
    public int InFlight => _pending.Count;

    /// <summary>When the host last answered, or showed that an answer is arriving (<see cref="Environment.TickCount64"/>).</summary>
    public long LastProgress => Volatile.Read(ref _lastProgress);

    /// <summary>How long a call of this host's function runs in Python, on average; null until one has been answered.</summary>
    /// <remarks>The time a call adds to the queue of its process: what a group of calls costs beside Python (the hand-over
    /// to the worker and back) is paid once per group, however many calls it has. Measured by the worker, so code that
    /// reaches the worker's memory can misstate it; it only decides which of the function's own processes a call goes to.</remarks>
    public TimeSpan? CallServiceTime => Volatile.Read(ref _callMicroseconds) is var us and > 0 ? TimeSpan.FromMicroseconds(us) : null;

    /// <summary>How long since a call was last answered, or since calls were sent while none was in flight: with calls in
    /// flight, how long the host has been busy with the one it runs now (at least).</summary>
    public TimeSpan SinceLastAnswer => System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref _answeredAt));

    /// <summary>The longest deadline among the requests in flight in milliseconds; null when none is in flight or one has none.</summary>
    public long? LongestTimeoutMilliseconds()
    {
        long? longest = null;
        foreach (var p in _pending.Values)
        {
            // A call without a deadline may run as long as it likes (it can still be cancelled).
            if (Timeouts.IsInfinite(p.Timeout)) return null;
            longest = Math.Max(longest ?? 0, Timeouts.Milliseconds(p.Timeout));
        }

        return longest;
    }

    /// <summary>The most bytes one reply line may have: the result limit with room for escaping (a JSON text inside a
    /// JSON string, UTF-8) and framing. A longer line is a broken host.</summary>
    internal static long MaxLineBytes(SandboxOptions options) => Math.Min(Array.MaxLength - 1L, (long)options.MaxResultBytes * 3 + FramingBytes);

    /// <summary>Starts reading replies.</summary>
    public void Start(int processId) =>
        new Thread(static s => ((HostChannel)s!).ReadLoop()) { IsBackground = true, Name = $"AnyDef host {processId} reader" }.Start(this);

    /// <summary>Sends one request; the task ends with the reply, a typed failure, or the caller's cancellation.</summary>
    public async Task<HostReply> SendAsync(string op, TimeSpan timeout, CancellationToken cancellationToken, string? code, string? function, string? args)
    {
        var id = Interlocked.Increment(ref s_nextId);
        var pending = new Pending(new TaskCompletionSource<HostReply>(TaskCreationOptions.RunContinuationsAsynchronously), timeout, op)
        {
            Profile = BridgeProfile.Current.Value,
        };
        if (_pending.IsEmpty) Volatile.Write(ref _lastProgress, Environment.TickCount64);
        _pending[id] = pending;

        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static s => ((HostChannel)((object[])s!)[0]).Cancel((long)((object[])s!)[1], (CancellationToken)((object[])s!)[2]), new object[] { this, id, cancellationToken })
            : default;
        try
        {
            var write = Enqueue(w =>
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("op", op);
                if (code is not null) w.WriteString("code", code);
                if (function is not null) w.WriteString("function", function);
                if (args is not null) w.WriteString("args", args);
                w.WriteNumber("timeoutMs", Timeouts.Milliseconds(timeout));
                w.WriteEndObject();
            });
            if (!write.IsCompletedSuccessfully) await write.ConfigureAwait(false);
            if (pending.Profile is { } sample) sample.Written = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            _owner.Broken("the channel to the sandbox host broke: " + ex.Message);
        }

        return await pending.Completion!.Task.ConfigureAwait(false);
    }

    /// <summary>
    /// Sends calls of the loaded function, one per packed argument list, each with its own id, deadline and outcome, in
    /// one write; the host runs them in order. The group completes when every call has its outcome: a reply, a typed
    /// failure, or (when <paramref name="cancellationToken"/> fires first) cancellation; outcomes that arrived before the
    /// cancellation are kept.
    /// </summary>
    public async Task<CallGroup> SendCallsAsync(IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var count = args.Count;
        var first = Interlocked.Add(ref s_nextId, count) - count + 1;
        var group = new CallGroup(first, count);
        var profile = count == 1 ? BridgeProfile.Current.Value : null;
        if (_pending.IsEmpty)
        {
            Volatile.Write(ref _lastProgress, Environment.TickCount64);
            Volatile.Write(ref _answeredAt, System.Diagnostics.Stopwatch.GetTimestamp());
        }

        for (var i = 0; i < count; i++) _pending[first + i] = new Pending(null, timeout, "call", group, i) { Profile = profile };

        using var registration = cancellationToken.CanBeCanceled
            ? cancellationToken.Register(static s => ((CallGroup)((object[])s!)[1]).Cancel((HostChannel)((object[])s!)[0], (CancellationToken)((object[])s!)[2]), new object[] { this, group, cancellationToken })
            : default;
        try
        {
            var timeoutMs = Timeouts.Milliseconds(timeout);
            var write = Enqueue(count, (w, i) =>
            {
                w.WriteStartObject();
                w.WriteNumber("id", first + i);
                w.WriteString("op", "call");
                w.WriteString("args", args[i]);
                w.WriteNumber("timeoutMs", timeoutMs);
                w.WriteEndObject();
            });
            if (!write.IsCompletedSuccessfully) await write.ConfigureAwait(false);
            if (profile is not null) profile.Written = System.Diagnostics.Stopwatch.GetTimestamp();
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            _owner.Broken("the channel to the sandbox host broke: " + ex.Message);
        }

        await group.Completion.ConfigureAwait(false);
        return group;
    }

    private void Cancel(long id, CancellationToken token)
    {
        if (!_pending.TryRemove(id, out var p)) return;
        p.Fail(new OperationCanceledException(token));
        SendCancels([id]);
    }

    // The host stops each of these requests (running or queued) and answers none of them with a result.
    private void SendCancels(List<long> ids) =>
        _ = Enqueue(ids.Count, (w, i) =>
        {
            w.WriteStartObject();
            w.WriteNumber("id", 0);
            w.WriteString("op", "cancel");
            w.WriteNumber("target", ids[i]);
            w.WriteEndObject();
        }).AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);

    // How long cancelled calls sent together wait for the host's answers (what finished, what it stopped).
    private static readonly TimeSpan CancelSettle = TimeSpan.FromSeconds(1);

    /// <summary>Calls sent together: one slot per call, each filled exactly once (the channel's table of requests in
    /// flight decides who fills it), and one completion when all are.</summary>
    internal sealed class CallGroup
    {
        private readonly HostReply?[] _replies;
        private readonly Exception?[] _errors;
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _remaining;

        public CallGroup(long firstId, int count)
        {
            FirstId = firstId;
            _replies = new HostReply?[count];
            _errors = new Exception?[count];
            _remaining = count;
        }

        public long FirstId { get; }

        public int Count => _replies.Length;

        public Task Completion => _done.Task;

        /// <summary>The host's reply to call <paramref name="index"/>, or null when it failed (see <see cref="Error"/>).</summary>
        public HostReply? Reply(int index) => _replies[index];

        /// <summary>Why call <paramref name="index"/> has no reply: the process died, or the call was cancelled.</summary>
        public Exception? Error(int index) => _errors[index];

        public void Answer(int index, HostReply reply)
        {
            _replies[index] = reply;
            Done();
        }

        public void Fail(int index, Exception error)
        {
            _errors[index] = error;
            Done();
        }

        private void Done()
        {
            if (Interlocked.Decrement(ref _remaining) == 0) _done.TrySetResult();
        }

        // A lone call ends at once. Calls sent together may have finished while the cancellation travelled: the host
        // passes on what is done (and answers the rest as cancelled) at once, so the group waits a moment for those
        // answers before it ends whatever is left as cancelled.
        internal void Cancel(HostChannel channel, CancellationToken token)
        {
            var cancelled = new List<long>();
            for (var i = 0; i < Count; i++)
            {
                if (!channel._pending.ContainsKey(FirstId + i)) continue;
                cancelled.Add(FirstId + i);
                if (Count == 1) End(channel, FirstId + i, token);
            }

            if (cancelled.Count == 0) return;
            channel.SendCancels(cancelled);
            if (Count > 1)
            {
                _ = Task.Delay(CancelSettle).ContinueWith(_ =>
                {
                    foreach (var id in cancelled) End(channel, id, token);
                }, TaskScheduler.Default);
            }
        }

        private static void End(HostChannel channel, long id, CancellationToken token)
        {
            if (channel._pending.TryRemove(id, out var p)) p.Fail(new OperationCanceledException("The sandbox call was cancelled.", token));
        }
    }

    /// <summary>
    /// Adds one line to what is waiting to be written. The first writer writes, and keeps writing what others added
    /// meanwhile; the others return at once (their line leaves with the writer's next write).
    /// </summary>
    private ValueTask Enqueue(Action<Utf8JsonWriter> line) => Enqueue(1, (w, _) => line(w));

    /// <summary>Adds <paramref name="count"/> lines, written by <paramref name="line"/> with their index, as <see cref="Enqueue(Action{Utf8JsonWriter})"/> does one.</summary>
    private ValueTask Enqueue(int count, Action<Utf8JsonWriter, int> line)
    {
        lock (_outLock)
        {
            for (var i = 0; i < count; i++)
            {
                if (_json is null) _json = new Utf8JsonWriter(_out);
                else _json.Reset(_out);
                line(_json, i);
                _json.Flush();
                _out.Write("\n"u8);
            }

            if (_writing) return ValueTask.CompletedTask;
            _writing = true;
        }

        return DrainAsync();
    }

    private async ValueTask DrainAsync()
    {
        try
        {
            // Other calls in flight: their replies tend to arrive together, and the callers they resume send again. The
            // write waits behind those (already queued) so that their requests leave with it in one write; a lone call
            // is written at once. Only where that wait cannot land on an application's own context.
            if (_pending.Count > 1 && SynchronizationContext.Current is null && TaskScheduler.Current == TaskScheduler.Default)
            {
                await Task.Yield();
            }

            while (true)
            {
                ArrayBufferWriter<byte> batch;
                lock (_outLock)
                {
                    if (_out.WrittenCount == 0)
                    {
                        _writing = false;
                        return;
                    }

                    batch = _out;
                    _out = _flushing;
                    _flushing = batch;
                }

                await _stream.WriteAsync(batch.WrittenMemory).ConfigureAwait(false);
                // A large request's buffer is not kept for the life of the process.
                if (batch.Capacity > SmallBuffer) _flushing = new ArrayBufferWriter<byte>(4096);
                else batch.ResetWrittenCount();
            }
        }
        catch
        {
            lock (_outLock) _writing = false;
            throw;
        }
    }

    /// <summary>Ends every request in flight: with "requeue" when the host never started them, otherwise with the crash.</summary>
    public void FailAll(bool requeue, string reason, Func<Exception> crashed)
    {
        foreach (var id in _pending.Keys)
        {
            if (!_pending.TryRemove(id, out var p)) continue;
            // After the host announced its exit it starts nothing new: those requests are safe to send elsewhere.
            if (requeue) p.Answer(HostReply.Failure("requeue", reason));
            else p.Fail(crashed());
        }
    }

    /// <summary>Fails the wait for the host's readiness.</summary>
    public void FailStart(Exception error) => _ready.TrySetException(error);

    private void ReadLoop()
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
                    _owner.Broken($"the sandbox host sent a reply of more than {limit} bytes, past the result limit of {_options.MaxResultBytes} bytes " +
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
                else if (start == end)
                {
                    // Nothing partial is held: read from the start of the buffer again.
                    start = end = scanned = 0;
                }

                // Waiting in poll(2) lets the kernel wake this thread itself when a reply lands. A blocking read on a
                // socket that has seen asynchronous writes waits for the runtime's socket event thread instead, which
                // then hands the reply over: one thread wake more per reply.
                _socket?.Poll(-1, SelectMode.SelectRead);
                var read = _stream.Read(buffer.AsSpan(end));
                if (read == 0) break;
                end += read;
            }

            _owner.SettleAsync().GetAwaiter().GetResult();
            _owner.Broken("the sandbox host closed its channel");
        }
        catch (Exception ex)
        {
            try
            {
                _owner.SettleAsync().GetAwaiter().GetResult();
            }
            finally
            {
                _owner.Broken("the channel to the sandbox host failed: " + ex.Message);
            }
        }
    }

    // One call answered; the last of a group comes with the average time in Python of the group's calls: one sample of
    // the average (only the read loop writes it). A sample counts for at most four times the average, so that one call
    // delayed by a pause (a collection, a busy core) does not move it far, while calls that really got slower move it
    // there within a few calls.
    private void Served(long? busy)
    {
        Volatile.Write(ref _answeredAt, System.Diagnostics.Stopwatch.GetTimestamp());
        if (busy is not { } microseconds) return;
        var smoothed = _callMicroseconds;
        var sample = Math.Clamp(microseconds, 1, smoothed == 0 ? (long)TimeSpan.FromDays(1).TotalMicroseconds : smoothed * 4);
        Volatile.Write(ref _callMicroseconds, smoothed == 0 ? sample : Math.Max(1, smoothed + (sample - smoothed) / 8));
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
            _owner.Broken($"the sandbox host sent {problem}");
            return false;
        }

        if (line.Ready)
        {
            _ready.TrySetResult();
            return true;
        }

        if (line.Exiting) _owner.Exiting();
        if (line.Id is not { } id)
        {
            _owner.Broken("the sandbox host sent a reply without a numeric \"id\"");
            return false;
        }

        // A reply for no request we hold (a cancelled one, or the host's own notice) is not progress.
        if (!_pending.TryGetValue(id, out var pending)) return true;
        if (HostReply.From(line, pending.Op, out problem) is not { } reply)
        {
            _owner.Broken($"the sandbox host sent {problem} for a '{pending.Op}' request");
            return false;
        }

        Volatile.Write(ref _lastProgress, Environment.TickCount64);
        if (pending.Profile is { } sample)
        {
            sample.Read = System.Diagnostics.Stopwatch.GetTimestamp();
            sample.Host = line.Profile;
        }

        if (_pending.TryRemove(new(id, pending)))
        {
            if (pending.Group is not null) Served(line.BusyMicroseconds);
            pending.Answer(reply);
        }
        else
        {
            reply.Dispose();
        }

        return true;
    }
}
