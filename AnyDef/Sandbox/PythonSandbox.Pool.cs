using System.Collections.Concurrent;
using System.Security.Cryptography;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet;

public sealed partial class PythonSandbox
{
    private sealed record LoadedFunction(HostProcess Host, IReadOnlyList<string> Parameters);

    private async Task<LoadedFunction> LoadAsync(string code, string functionName, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = FunctionKey(code, functionName);
        while (true)
        {
            var lazy = _functions.GetOrAdd(key, _ => new Lazy<Task<LoadedFunction>>(() => StartFunctionAsync(key, code, functionName)));
            LoadedFunction function;
            try
            {
                function = await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _functions.TryRemove(new(key, lazy));
                throw;
            }

            if (function.Host.IsAlive) return function;
            _functions.TryRemove(new(key, lazy));
        }
    }

    // Runs without the caller's token: other callers may be waiting for the same process.
    private async Task<LoadedFunction> StartFunctionAsync(string key, string code, string functionName)
    {
        var host = await TakeSpareAsync().ConfigureAwait(false);
        HostReply reply;
        try
        {
            reply = await host.SendAsync("load", Options.StartTimeout, CancellationToken.None, code, functionName).ConfigureAwait(false);
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        using var payload = System.Text.Json.JsonDocument.Parse(reply.Payload ?? "{}");
        var root = payload.RootElement;
        if (!reply.Ok || !root.GetProperty("ok").GetBoolean())
        {
            // The code ran its module body in this interpreter: the process is spent either way.
            await host.DisposeAsync().ConfigureAwait(false);
            if (!reply.Ok) throw new SandboxCrashedException($"The sandbox process failed while loading '{functionName}': {reply.ErrorMessage}");
            throw new PythonExecutionException(functionName, root.GetProperty("type").GetString()!, root.GetProperty("message").GetString()!,
                root.GetProperty("traceback").GetString()!, code, reply.Output);
        }

        var parameters = root.GetProperty("params").EnumerateArray().Select(p => p.GetProperty("name").GetString()!).ToList();
        var loaded = new LoadedFunction(host, parameters);
        _ = host.Exited.ContinueWith(_ =>
        {
            if (_functions.TryGetValue(key, out var current) && current.IsValueCreated && current.Value.IsCompletedSuccessfully && current.Value.Result.Host == host)
            {
                _functions.TryRemove(new(key, current));
            }
        }, TaskScheduler.Default);
        EvictIdle(key);
        return loaded;
    }

    private void EvictIdle(string keep)
    {
        var excess = _functions.Count - Options.MaxProcesses;
        if (excess <= 0) return;
        var idle = _functions
            .Where(kv => kv.Key != keep && kv.Value.IsValueCreated && kv.Value.Value.IsCompletedSuccessfully && kv.Value.Value.Result.Host.InFlight == 0)
            .OrderBy(kv => kv.Value.Value.Result.Host.LastUsed)
            .Take(excess)
            .ToList();
        foreach (var kv in idle)
        {
            if (_functions.TryRemove(kv)) _ = kv.Value.Value.Result.Host.RetireAsync().AsTask();
        }
    }

    /// <summary>The operating system id of the process that runs this code, if one is running.</summary>
    internal int? ProcessIdOf(string code, string functionName) =>
        _functions.TryGetValue(FunctionKey(code, functionName), out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully
            ? lazy.Value.Result.Host.ProcessId
            : null;

    private async Task<HostProcess> TakeSpareAsync()
    {
        var (location, snapshot) = await RuntimeAsync(CancellationToken.None).ConfigureAwait(false);
        while (_spares.TryDequeue(out var spare))
        {
            TopUpSpares();
            var host = await spare.ConfigureAwait(false);
            if (host.IsAlive) return host;
        }

        TopUpSpares();
        return Track(await HostProcess.StartAsync(location, snapshot, Options, _logger, CancellationToken.None).ConfigureAwait(false));
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

    private async Task<HostProcess> TrackAsync(Task<HostProcess> starting) => Track(await starting.ConfigureAwait(false));

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
                _spares.Enqueue(TrackAsync(HostProcess.StartAsync(location, snapshot, Options, _logger, CancellationToken.None)));
            }
        }
    }

    private Lazy<Task<(RuntimeLocation, string?)>> NewRuntime() => new(async () =>
    {
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
        var identity = string.Join("\n",
            File.ReadAllText(location.WorkerScript),
            File.ReadAllText(Path.Combine(location.PyodideDirectory, "package.json")),
            new FileInfo(location.DenoPath).Length.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var hash = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(identity)))[..16].ToLowerInvariant();
        var dir = Path.Combine(location.CacheDirectory, "snapshots");
        Directory.CreateDirectory(dir);
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
