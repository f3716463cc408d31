using System.Collections.Concurrent;
using System.Security.Cryptography;
using AnyDefNet.Internal;
using AnyDefNet.Sandbox.Internal;
using Microsoft.Extensions.Logging;

namespace AnyDefNet;

// The process pool. Every process (starting, spare, or serving a function) holds one of MaxProcesses slots from the
// moment it is launched until it has exited; at most StartConcurrency processes start at once. A function without a
// process takes a spare (waiting for one that is starting), else a free slot, else retires the least recently used
// idle process and waits for its slot.
public sealed partial class PythonSandbox
{
    private readonly Lock _slotLock = new();
    private readonly CancellationTokenSource _lifetime = new();
    private readonly SemaphoreSlim _startGate = new(StartConcurrency, StartConcurrency);
    private TaskCompletionSource _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _live;
    private int _retiring;
    private int _waiting;

    /// <summary>How many processes may start at once: starting is CPU-bound, more than the cores only slows all of them.</summary>
    internal static int StartConcurrency { get; } = Math.Max(1, Environment.ProcessorCount);

    private sealed record LoadedFunction(HostProcess Host, IReadOnlyList<string> Parameters);

    /// <summary>One process of a function, shared by every call sent to it; abandoned when no caller waits for it any more.</summary>
    private sealed class FunctionEntry
    {
        private readonly Lazy<Task<LoadedFunction>> _load;
        private int _waiters;

        public FunctionEntry(FunctionGroup group, Func<FunctionEntry, Task<LoadedFunction>> start)
        {
            Group = group;
            _load = new(() => start(this));
        }

        public FunctionGroup Group { get; }

        public CancellationTokenSource Abandon { get; } = new();

        public Task<LoadedFunction> Load => _load.Value;

        public bool IsStarted => _load.IsValueCreated;

        public bool IsLoaded => _load.IsValueCreated && _load.Value.IsCompletedSuccessfully;

        public LoadedFunction? Loaded => IsLoaded ? _load.Value.Result : null;

        /// <summary>Not yet loaded and not failed: a caller may wait for it.</summary>
        public bool IsPending => !_load.IsValueCreated || !_load.Value.IsCompleted;

        /// <summary>Loaded and alive, or still starting: it counts towards the function's processes.</summary>
        public bool IsLive => IsPending || Loaded?.Host.IsAlive == true;

        public async Task<LoadedFunction> WaitAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _waiters);
            try
            {
                return await Load.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                if (Interlocked.Decrement(ref _waiters) == 0 && !Load.IsCompleted) Abandon.Cancel();
            }
        }
    }

    /// <summary>The processes of one function (its replicas): all run the same code, each in its own interpreter.</summary>
    private sealed class FunctionGroup(string key)
    {
        private readonly Lock _lock = new();
        private FunctionEntry[] _entries = [];
        private bool _closed;
        private int _growing;

        public string Key { get; } = key;

        /// <summary>Read without a lock on every call; replaced whole on every change.</summary>
        public FunctionEntry[] Entries => Volatile.Read(ref _entries);

        /// <summary>The oldest loaded, live process.</summary>
        public LoadedFunction? Primary => Entries.Select(e => e.Loaded).FirstOrDefault(l => l?.Host.IsAlive == true);

        public int LiveCount => Entries.Count(e => e.IsLive);

        /// <summary>A process that is still starting, else a new one from <paramref name="create"/>; null once the group is closed.</summary>
        public FunctionEntry? PendingOrNew(Func<FunctionGroup, FunctionEntry> create)
        {
            lock (_lock)
            {
                if (_closed) return null;
                if (_entries.FirstOrDefault(e => e.IsPending) is { } pending) return pending;
                var entry = create(this);
                _entries = [.. _entries, entry];
                return entry;
            }
        }

        public bool TryAdd(FunctionEntry entry)
        {
            lock (_lock)
            {
                if (_closed) return false;
                _entries = [.. _entries, entry];
                return true;
            }
        }

        /// <summary>Removes one process; the group closes (and leaves <paramref name="functions"/>) when it has none left.</summary>
        public bool Remove(FunctionEntry entry, ConcurrentDictionary<string, FunctionGroup> functions)
        {
            lock (_lock)
            {
                if (!_entries.Contains(entry)) return false;
                _entries = [.. _entries.Where(e => e != entry)];
                if (_entries.Length == 0)
                {
                    _closed = true;
                    functions.TryRemove(new(Key, this));
                }

                return true;
            }
        }

        /// <summary>Takes every process out; nothing joins the group afterwards.</summary>
        public FunctionEntry[] Close()
        {
            lock (_lock)
            {
                _closed = true;
                var all = _entries;
                _entries = [];
                return all;
            }
        }

        /// <summary>Whether this caller may start the one extra process allowed to start at a time.</summary>
        public bool TryBeginGrowing() => Interlocked.CompareExchange(ref _growing, 1, 0) == 0;

        public void EndGrowing() => Volatile.Write(ref _growing, 0);
    }

    /// <summary>
    /// The process a call of this function goes to: the oldest of its loaded processes with a short queue, else the least
    /// busy (see <see cref="Choose"/>). When all of them have long queues and the function has fewer than
    /// <see cref="SandboxOptions.MaxProcessesPerFunction"/>, another one starts beside them (from a spare or a free slot,
    /// never by evicting); until it is loaded, calls keep going to the ones there are.
    /// </summary>
    /// <remarks><c>inputs</c> is how many inputs the caller sends at once: a group of inputs goes to the least busy process,
    /// so that a batch's chunks in flight run side by side in different processes.</remarks>
    private async Task<LoadedFunction> LoadAsync(string code, string functionName, TimeSpan timeout, CancellationToken cancellationToken, int inputs = 1)
    {
        var key = FunctionKey(code, functionName);
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var group = _functions.GetOrAdd(key, static k => new FunctionGroup(k));
            if (Choose(group, inputs > 1, out var queued) is { } ready)
            {
                if (queued) TryGrow(group, code, functionName);
                return ready;
            }

            var entry = group.PendingOrNew(g => new FunctionEntry(g, e => StartFunctionAsync(e, code, functionName, timeout, reserved: null)));
            if (entry is null) continue; // closed meanwhile: a fresh group is in the map
            LoadedFunction function;
            try
            {
                function = await entry.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && entry.Abandon.IsCancellationRequested && !_disposed)
            {
                // Every earlier caller gave up while this one joined: start afresh.
                group.Remove(entry, _functions);
                continue;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                group.Remove(entry, _functions);
                throw;
            }

            if (function.Host.IsAlive) return function;
            group.Remove(entry, _functions);
        }
    }

    // A single call goes to the oldest process whose queue is short: calls that queue briefly in one process cost less
    // than the same calls spread over several (every group of calls a process runs costs a wake of each thread on the
    // way, and processes of one function compete for the same cores). Only when every process has a long queue does it
    // go to the least busy one, and does the function get another process. A group of inputs (a batch's chunk) is long
    // enough to be worth a process of its own: it goes to the least busy process, and a busy one means another process.
    private LoadedFunction? Choose(FunctionGroup group, bool spread, out bool queued)
    {
        LoadedFunction? best = null;
        var least = int.MaxValue;
        foreach (var entry in group.Entries)
        {
            if (entry.Loaded is not { } loaded || !loaded.Host.IsAlive) continue;
            if (spread ? loaded.Host.InFlight == 0 : !Backlogged(loaded.Host))
            {
                queued = false;
                return loaded;
            }

            var load = loaded.Host.InFlight;
            if (load >= least) continue;
            best = loaded;
            least = load;
        }

        queued = best is not null;
        return best;
    }

    // Busy, with no measure yet of how long its calls take, more than QueueTarget's worth of them queued, or no call
    // answered for ten times that (a usually quick function's slow call: the calls behind it would wait for it; a mere
    // hiccup of the machine, a collection, a busy core, lasts less).
    private bool Backlogged(HostProcess host)
    {
        var inFlight = host.InFlight;
        if (inFlight == 0) return false;
        return host.CallServiceTime is not { } perCall || perCall * inFlight >= Options.QueueTarget || host.SinceLastAnswer >= Options.QueueTarget * 10;
    }

    // Calls of this function queue behind busy processes: start one more for it where that costs no other function anything.
    private void TryGrow(FunctionGroup group, string code, string functionName)
    {
        if (group.LiveCount >= Options.MaxProcessesPerFunction || !group.TryBeginGrowing()) return;
        var host = TakeHostForReplica();
        if (host is null)
        {
            group.EndGrowing();
            return;
        }

        var entry = new FunctionEntry(group, e => StartFunctionAsync(e, code, functionName, Options.StartTimeout, host));
        if (!group.TryAdd(entry))
        {
            group.EndGrowing();
            _ = host.ContinueWith(static t => t.IsCompletedSuccessfully ? t.Result.DisposeAsync().AsTask() : Task.CompletedTask, TaskScheduler.Default);
            return;
        }

        _logger.LogDebug("Starting another sandbox process for '{Function}': its {Count} process(es) are busy", functionName, group.LiveCount - 1);
        _ = entry.Load.ContinueWith(t =>
        {
            group.EndGrowing();
            if (!t.IsCompletedSuccessfully) group.Remove(entry, _functions);
        }, TaskScheduler.Default);
    }

    /// <summary>A spare (one still starting included), else a new process in a free slot; null while any call waits for a process.</summary>
    private Task<HostProcess>? TakeHostForReplica()
    {
        if (_disposed || !_runtime.IsValueCreated || !_runtime.Value.IsCompletedSuccessfully) return null;
        lock (_slotLock)
        {
            // A call waiting for a process of its own comes first: a replica only speeds up a function that has one.
            if (_waiting > 0) return null;
            if (_spares.TryDequeue(out var spare)) return spare;
            if (_live >= Options.MaxProcesses) return null;
            _live++;
        }

        var (location, snapshot) = _runtime.Value.Result;
        return LaunchAsync(location, snapshot, CancellationToken.None);
    }

    // Runs without the caller's token: other callers may be waiting for the same process. It gives up when all have.
    private async Task<LoadedFunction> StartFunctionAsync(FunctionEntry entry, string code, string functionName, TimeSpan timeout, Task<HostProcess>? reserved)
    {
        await GetPackagesAsync(CancellationToken.None).ConfigureAwait(false);
        var host = reserved is null
            ? await AcquireHostAsync(functionName, timeout, entry.Abandon.Token).ConfigureAwait(false)
            : await reserved.ConfigureAwait(false);
        HostReply reply;
        try
        {
            await InstallPackagesAsync(host).ConfigureAwait(false);
            reply = await host.SendAsync("load", Options.StartTimeout, CancellationToken.None, code, functionName).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        using (reply)
        {
            try
            {
                var loaded = Loaded(host, reply, code, functionName);
                // A process that ends takes only itself out of its function: the function's other processes serve on.
                _ = host.Exited.ContinueWith(_ => entry.Group.Remove(entry, _functions), TaskScheduler.Default);
                return loaded;
            }
            catch
            {
                // The code ran its module body in this interpreter: the process is spent either way.
                await host.DisposeAsync().ConfigureAwait(false);
                throw;
            }
            finally
            {
                // The next spare starts once this function's own start is done, not beside it.
                TopUpSpares();
            }
        }
    }

    private static LoadedFunction Loaded(HostProcess host, HostReply reply, string code, string functionName)
    {
        if (!reply.Ok) throw new SandboxCrashedException($"The sandbox process failed while loading '{functionName}': {reply.ErrorMessage}");
        try
        {
            var root = reply.Payload.RootElement;
            if (!root.GetProperty("ok").GetBoolean())
            {
                throw new PythonExecutionException(functionName, root.GetProperty("type").GetString()!, root.GetProperty("message").GetString()!,
                    root.GetProperty("traceback").GetString()!, code, reply.Output);
            }

            return new LoadedFunction(host, [.. root.GetProperty("params").EnumerateArray().Select(p => p.GetProperty("name").GetString()!)]);
        }
        catch (Exception ex) when (ex is not AnyDefException)
        {
            throw Malformed(functionName, ex);
        }
    }

    /// <summary>A started process for a new function: a spare (one that is still starting included), else a new one.</summary>
    private async Task<HostProcess> AcquireHostAsync(string functionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (location, snapshot) = await RuntimeAsync(cancellationToken).ConfigureAwait(false);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        if (!Timeouts.IsInfinite(timeout)) deadline.CancelAfter(timeout);
        var failedSpares = 0;
        var logged = false;
        while (true)
        {
            if (_spares.TryDequeue(out var spare))
            {
                try
                {
                    var host = await spare.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (host.IsAlive) return host;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !_disposed && failedSpares++ == 0)
                {
                    // A spare that failed is not this call's failure: try once more with a fresh process.
                    _logger.LogWarning(ex, "A spare sandbox process failed to start; starting another for '{Function}'", functionName);
                }

                continue;
            }

            Task freed;
            lock (_slotLock)
            {
                if (_live < Options.MaxProcesses)
                {
                    _live++;
                    break;
                }

                freed = _slotFreed.Task;
                if (_waiting++ >= _retiring) RetireIdle();
            }

            try
            {
                if (!logged)
                {
                    logged = true;
                    _logger.LogInformation("All {Max} sandbox processes are busy; '{Function}' waits for one to be free ({Setting})",
                        Options.MaxProcesses, functionName, $"{nameof(SandboxOptions)}.{nameof(SandboxOptions.MaxProcesses)}");
                }

                // A busy process that became idle frees nothing by itself: look again now and then.
                await freed.WaitAsync(TimeSpan.FromMilliseconds(100), deadline.Token).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_lifetime.IsCancellationRequested)
            {
                throw new SandboxTimeoutException(functionName, timeout,
                    $"it waited for a sandbox process: all {Options.MaxProcesses} were busy; raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MaxProcesses)}");
            }
            finally
            {
                lock (_slotLock) _waiting--;
            }
        }

        return await LaunchAsync(location, snapshot, cancellationToken).ConfigureAwait(false);
    }

    // Called with the slot lock held: retires an idle function process to free its slot; extra processes of a function
    // go first, then the least recently used.
    private void RetireIdle()
    {
        var idle = _functions.Values
            .SelectMany(g => g.Entries.Select(e => (Group: g, Entry: e, e.Loaded)))
            .Where(x => x.Loaded is { } l && l.Host.IsAlive && l.Host.InFlight == 0)
            .OrderByDescending(x => x.Group.LiveCount > 1)
            .ThenBy(x => x.Loaded!.Host.LastUsed)
            .FirstOrDefault();
        if (idle.Loaded is null || !idle.Group.Remove(idle.Entry, _functions)) return;
        _retiring++;
        _logger.LogDebug("Retiring the idle sandbox process {Pid} to make room", idle.Loaded.Host.ProcessId);
        _ = idle.Loaded.Host.RetireAsync().AsTask();
    }

    /// <summary>Starts a process in a slot already taken; the slot is given back when the process has ended.</summary>
    private async Task<HostProcess> LaunchAsync(RuntimeLocation location, string? snapshot, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _lifetime.Token);
        try
        {
            await _startGate.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch
        {
            ReleaseSlot();
            throw;
        }

        HostProcess host;
        try
        {
            try
            {
                host = Track(await HostProcess.StartAsync(location, snapshot, Options, _logger, linked.Token).ConfigureAwait(false));
            }
            catch (SandboxUnavailableException ex) when (snapshot is not null && ex.Message.Contains("anydef-snapshot-changed", StringComparison.Ordinal))
            {
                // The snapshot changed on disk after this run verified it: it is checked again (and made again), once.
                _logger.LogWarning("The interpreter snapshot {Path} changed after it was verified; checking it again", snapshot);
                Packages.VerifiedFiles.Forget(snapshot);
                snapshot = await SnapshotAsync(location).ConfigureAwait(false);
                host = Track(await HostProcess.StartAsync(location, snapshot, Options, _logger, linked.Token).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            ReleaseSlot();
            throw new ObjectDisposedException(nameof(PythonSandbox), "The sandbox was disposed while a process was starting.");
        }
        catch
        {
            ReleaseSlot();
            throw;
        }
        finally
        {
            _startGate.Release();
        }

        _ = host.Exited.ContinueWith(_ => ReleaseSlot(), TaskScheduler.Default);
        return host;
    }

    private void ReleaseSlot()
    {
        TaskCompletionSource freed;
        lock (_slotLock)
        {
            _live--;
            if (_retiring > 0) _retiring--;
            freed = _slotFreed;
            _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        freed.TrySetResult();
    }

    /// <summary>The operating system id of the (oldest) process that runs this code, if one is running.</summary>
    internal int? ProcessIdOf(string code, string functionName) =>
        _functions.TryGetValue(FunctionKey(code, functionName), out var group) ? group.Primary?.Host.ProcessId : null;

    /// <summary>The operating system ids of every loaded process that runs this code.</summary>
    internal IReadOnlyList<int> ProcessIdsOf(string code, string functionName) =>
        _functions.TryGetValue(FunctionKey(code, functionName), out var group)
            ? [.. group.Entries.Select(e => e.Loaded).Where(l => l?.Host.IsAlive == true).Select(l => l!.Host.ProcessId)]
            : [];

    /// <summary>How many processes hold a slot (starting, spare or serving a function).</summary>
    internal int LiveProcesses
    {
        get
        {
            lock (_slotLock) return _live;
        }
    }

    private readonly ConcurrentQueue<long> _replacements = new();

    // A process that ends while the sandbox lives was replaced (a timeout, crash or memory error, or idle eviction).
    private HostProcess Track(HostProcess host)
    {
        _ = host.Exited.ContinueWith(_ =>
        {
            if (_disposed) return;
            _replacements.Enqueue(Environment.TickCount64);
            while (_replacements.Count > 1000 && _replacements.TryDequeue(out long _)) { }
        }, TaskScheduler.Default);
        return host;
    }

    /// <summary>How many of this sandbox's processes ended (and were replaced) within <paramref name="window"/>.</summary>
    internal int ReplacementsWithin(TimeSpan window)
    {
        var since = Environment.TickCount64 - (long)window.TotalMilliseconds;
        return _replacements.Count(t => t >= since);
    }

    /// <summary>
    /// Starts one process at once, as a spare, for a call the caller knows is coming (a one-shot program, which can start
    /// it before it has loaded and parsed the rest): the call takes it, waiting for it if it is still starting. Only a
    /// sandbox with no process yet starts one, and no spare follows it unless <see cref="SandboxOptions.SpareProcesses"/>
    /// asks for spares. Returns at once; the runtime is located and the process launched in the background.
    /// </summary>
    internal void Prestart()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        lock (_spareLock)
        {
            lock (_slotLock)
            {
                if (_live > 0 || _waiting > 0 || Options.MaxProcesses < 1) return;
                _live++;
            }

            var spare = Task.Run(LaunchWhenLocatedAsync);
            _spares.Enqueue(spare);
            _ = spare.ContinueWith(_ => Pulse(), TaskScheduler.Default);
        }
    }

    private async Task<HostProcess> LaunchWhenLocatedAsync()
    {
        (RuntimeLocation Location, string? Snapshot) runtime;
        try
        {
            runtime = await RuntimeAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            ReleaseSlot();
            throw;
        }

        return await LaunchAsync(runtime.Location, runtime.Snapshot, CancellationToken.None).ConfigureAwait(false);
    }

    private void TopUpSpares()
    {
        if (_disposed || !_runtime.IsValueCreated || !_runtime.Value.IsCompletedSuccessfully) return;
        var (location, snapshot) = _runtime.Value.Result;
        lock (_spareLock)
        {
            while (_spares.Count < Options.SpareProcesses)
            {
                lock (_slotLock)
                {
                    // Spares use only free slots, never ones a call is waiting for.
                    if (_waiting > 0 || _live >= Options.MaxProcesses) return;
                    _live++;
                }

                var spare = LaunchAsync(location, snapshot, CancellationToken.None);
                _spares.Enqueue(spare);
                // Wake a caller that waits: it can take this spare.
                _ = spare.ContinueWith(_ => Pulse(), TaskScheduler.Default);
            }
        }
    }

    private void Pulse()
    {
        TaskCompletionSource freed;
        lock (_slotLock)
        {
            freed = _slotFreed;
            _slotFreed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        freed.TrySetResult();
    }

    private Lazy<Task<(RuntimeLocation, string?)>> NewRuntime() => new(async () =>
    {
        HostProcess.SweepLeftovers();
        var location = await RuntimeLocation.ResolveAsync(Options, CancellationToken.None).ConfigureAwait(false);
        // Before the snapshot's name is taken from the scripts: a changed copy in the cache is restored first.
        HostScripts.Verify(location);
        var snapshot = Options.UseSnapshot ? await SnapshotAsync(location).ConfigureAwait(false) : null;
        return (location, snapshot);
    });

    private async Task<(RuntimeLocation Location, string? Snapshot)> RuntimeAsync(CancellationToken cancellationToken)
    {
        var runtime = _runtime;
        try
        {
            return await runtime.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Let a later call try again, after the user installed what was missing.
            Interlocked.CompareExchange(ref _runtime, NewRuntime(), runtime);
            throw;
        }
    }

    // The snapshot is made once per runtime version, by a process that runs only our own start-up code, before any
    // untrusted code exists; sandboxes only ever read it.
    // Its SHA-256 is recorded beside it when it is made, checked once per run before use, and checked by every host on
    // the bytes it loads; a cached snapshot that changed is deleted and made again, once.
    private async Task<string> SnapshotAsync(RuntimeLocation location)
    {
        // Made at publish from the same files; a published application writes nothing for it.
        if (location.PublishedSnapshot is { } published)
        {
            var recorded = RecordedHash(published);
            if (recorded is null) Packages.VerifiedFiles.Record(published, Packages.VerifiedFiles.Hash(published));
            else if (!Packages.VerifiedFiles.Check(published, recorded))
            {
                throw new SandboxUnavailableException($"The published interpreter snapshot '{published}' does not have the SHA-256 recorded when it " +
                    $"was made ({recorded}): it changed after publishing, and no process was started from it. Publish the application again " +
                    "(or restore the file from the published output).");
            }

            return published;
        }

        var identity = string.Join("\n",
            File.ReadAllText(location.WorkerScript),
            File.ReadAllText(location.RuntimeScript),
            File.ReadAllText(Path.Combine(location.PyodideDirectory, "package.json")),
            new FileInfo(location.DenoPath).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var hash = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(identity)))[..16].ToLowerInvariant();
        var dir = Path.Combine(location.CacheDirectory, "snapshots");
        try
        {
            Directory.CreateDirectory(dir);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            throw RuntimeLocation.CannotWrite($"the interpreter snapshot (or set {nameof(SandboxOptions)}.{nameof(SandboxOptions.UseSnapshot)} to false)", dir, ex);
        }

        var path = Path.Combine(dir, $"pyodide-{hash}.bin");
        if (Intact(path)) return path;

        using var cts = new CancellationTokenSource(Options.StartTimeout * 3);
        await using var gate = await FileLock.AcquireAsync(path + ".lock", Options.StartTimeout * 3, CancellationToken.None).ConfigureAwait(false);
        if (Intact(path)) return path;
        if (File.Exists(path)) _logger.LogWarning("The interpreter snapshot {Path} does not have the SHA-256 recorded when it was made; making it again", path);
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        await HostProcess.MakeSnapshotAsync(location, temp, Options, cts.Token).ConfigureAwait(false);
        var sha = Packages.VerifiedFiles.Hash(temp);
        await File.WriteAllTextAsync(temp + ".sha256", sha + "\n", CancellationToken.None).ConfigureAwait(false);
        File.Move(temp + ".sha256", path + ".sha256", overwrite: true);
        File.Move(temp, path, overwrite: true);
        Packages.VerifiedFiles.Record(path, sha);
        return path;

        static bool Intact(string path) => File.Exists(path) && RecordedHash(path) is { } recorded && Packages.VerifiedFiles.Check(path, recorded);
    }

    /// <summary>The SHA-256 recorded beside a snapshot when it was made (<c>FILE.sha256</c>), if there is one.</summary>
    private static string? RecordedHash(string snapshot)
    {
        try
        {
            var text = File.Exists(snapshot + ".sha256") ? File.ReadAllText(snapshot + ".sha256").Trim().ToLowerInvariant() : "";
            return text.Length == 64 && text.All(char.IsAsciiHexDigitLower) ? text : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
