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

    /// <summary>A function's process, shared by every call that needs it; abandoned when no caller waits for it any more.</summary>
    private sealed class FunctionEntry
    {
        private readonly Lazy<Task<LoadedFunction>> _load;
        private int _waiters;

        public FunctionEntry(Func<FunctionEntry, Task<LoadedFunction>> start) => _load = new(() => start(this));

        public CancellationTokenSource Abandon { get; } = new();

        public Task<LoadedFunction> Load => _load.Value;

        public bool IsStarted => _load.IsValueCreated;

        public bool IsLoaded => _load.IsValueCreated && _load.Value.IsCompletedSuccessfully;

        public LoadedFunction? Loaded => IsLoaded ? _load.Value.Result : null;

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

    private async Task<LoadedFunction> LoadAsync(string code, string functionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var key = FunctionKey(code, functionName);
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var entry = _functions.GetOrAdd(key, k => new FunctionEntry(e => StartFunctionAsync(k, e, code, functionName, timeout)));
            LoadedFunction function;
            try
            {
                function = await entry.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && entry.Abandon.IsCancellationRequested && !_disposed)
            {
                // Every earlier caller gave up while this one joined: start afresh.
                _functions.TryRemove(new(key, entry));
                continue;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _functions.TryRemove(new(key, entry));
                throw;
            }

            if (function.Host.IsAlive) return function;
            _functions.TryRemove(new(key, entry));
        }
    }

    // Runs without the caller's token: other callers may be waiting for the same process. It gives up when all have.
    private async Task<LoadedFunction> StartFunctionAsync(string key, FunctionEntry entry, string code, string functionName, TimeSpan timeout)
    {
        await GetPackagesAsync(CancellationToken.None).ConfigureAwait(false);
        var host = await AcquireHostAsync(functionName, timeout, entry.Abandon.Token).ConfigureAwait(false);
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
                _ = host.Exited.ContinueWith(_ =>
                {
                    if (_functions.TryGetValue(key, out var current) && current.Loaded?.Host == host) _functions.TryRemove(new(key, current));
                }, TaskScheduler.Default);
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

    // Called with the slot lock held: retires the least recently used idle function process to free its slot.
    private void RetireIdle()
    {
        var idle = _functions
            .Select(kv => (kv.Key, Entry: kv.Value, Loaded: kv.Value.Loaded))
            .Where(x => x.Loaded is { } l && l.Host.IsAlive && l.Host.InFlight == 0)
            .OrderBy(x => x.Loaded!.Host.LastUsed)
            .FirstOrDefault();
        if (idle.Loaded is null || !_functions.TryRemove(new(idle.Key, idle.Entry))) return;
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
            host = Track(await HostProcess.StartAsync(location, snapshot, Options, _logger, linked.Token).ConfigureAwait(false));
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

    /// <summary>The operating system id of the process that runs this code, if one is running.</summary>
    internal int? ProcessIdOf(string code, string functionName) =>
        _functions.TryGetValue(FunctionKey(code, functionName), out var entry) ? entry.Loaded?.Host.ProcessId : null;

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
    private async Task<string> SnapshotAsync(RuntimeLocation location)
    {
        // Made at publish from the same files; a published application writes nothing for it.
        if (location.PublishedSnapshot is { } published) return published;
        var identity = string.Join("\n",
            File.ReadAllText(location.WorkerScript),
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
        if (File.Exists(path)) return path;

        using var cts = new CancellationTokenSource(Options.StartTimeout * 3);
        await using var gate = await FileLock.AcquireAsync(path + ".lock", Options.StartTimeout * 3, CancellationToken.None).ConfigureAwait(false);
        if (File.Exists(path)) return path;
        var temp = $"{path}.{Environment.ProcessId}.tmp";
        await HostProcess.MakeSnapshotAsync(location, temp, Options, cts.Token).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return path;
    }
}
