using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using AnyDefNet.Internal;

namespace AnyDefNet.Agents;

/// <summary>
/// Runs cells of Python source in the sandbox, as a code interpreter for agents: each cell returns what it printed, the
/// value of its last expression, or its error. Without a session a cell runs in a fresh namespace; with a session id its
/// variables, imports and definitions persist between cells, in a sandbox process of that session's own.
/// </summary>
/// <remarks>
/// Thread-safe. Cells of one session run one at a time; sessions of different ids never share a process. A session ends on
/// <see cref="EndSessionAsync"/>, after <see cref="RunPythonOptions.SessionIdleTimeout"/>, when the sandbox needs its process's
/// slot (<see cref="SandboxOptions.MaxProcesses"/>), or when its process dies; its next cell then fails with
/// <see cref="SessionEndedException"/>, never silently starting empty. Stateless cells share the runner's processes (one trust
/// domain): each gets a fresh namespace, but what a cell changes in the interpreter itself (a patched module) can reach a later
/// stateless cell; give cells that must not meet each other sessions of their own.
/// </remarks>
public sealed class PythonRunner : IAsyncDisposable
{
    private const int RememberedEndedSessions = 10_000;
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _ended = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _endedOrder = new();
    private readonly Timer? _idleTimer;
    private volatile bool _disposed;

    /// <summary>Creates a runner; no process starts until the first cell.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (every problem is listed).</exception>
    public PythonRunner(RunPythonOptions? options = null)
    {
        Options = options ?? RunPythonOptions.Default;
        Options.Validate();
        Sandbox = Options.Sandbox ?? PythonSandbox.GetShared();
        if (Options.AllowSessions && !Timeouts.IsInfinite(Options.SessionIdleTimeout))
        {
            var period = TimeSpan.FromTicks(Math.Clamp(Options.SessionIdleTimeout.Ticks / 4, TimeSpan.FromMilliseconds(50).Ticks, TimeSpan.FromSeconds(30).Ticks));
            _idleTimer = new Timer(_ => _ = EndIdleSessionsAsync(), null, period, period);
        }
    }

    /// <summary>The settings this runner uses.</summary>
    public RunPythonOptions Options { get; }

    /// <summary>The sandbox the cells run in.</summary>
    public PythonSandbox Sandbox { get; }

    /// <summary>The ids of the sessions alive now.</summary>
    public IReadOnlyCollection<string> ActiveSessions => [.. _sessions.Keys];

    /// <summary>Runs one cell of Python source.</summary>
    /// <param name="code">Python source; the value of its last line, when that is an expression, is the result. Top-level
    /// <c>await</c> works.</param>
    /// <param name="sessionId">A session to run in (one that does not exist yet begins), or null for a fresh namespace.</param>
    /// <param name="cancellationToken">Cancels the cell (it is interrupted; its session survives when the interrupt works).</param>
    /// <returns>What the cell printed and its value or its error. A timeout and a process that died are errors in the result too
    /// (with <see cref="PythonRunResult.SessionEnded"/> set when the session's process is gone).</returns>
    /// <exception cref="SessionEndedException"><paramref name="sessionId"/> names a session that has ended.</exception>
    /// <exception cref="InvalidOperationException">Sessions are off (<see cref="RunPythonOptions.AllowSessions"/>).</exception>
    /// <exception cref="SandboxUnavailableException">Deno or Pyodide is missing.</exception>
    public async Task<PythonRunResult> RunAsync(string code, string? sessionId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(code);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (sessionId is null) return await RunCellAsync(PythonRunnerScript.Code, code, 0, null, cancellationToken).ConfigureAwait(false);
        if (!Options.AllowSessions) throw new InvalidOperationException($"Sessions are off for this runner ({nameof(RunPythonOptions)}.{nameof(RunPythonOptions.AllowSessions)}).");
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        if (sessionId.Length > 200) throw new ArgumentException("A session id has at most 200 characters.", nameof(sessionId));

        if (_ended.TryGetValue(sessionId, out var reason)) throw new SessionEndedException(sessionId, reason);
        var session = _sessions.GetOrAdd(sessionId, id => new Session(id));
        await session.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Ended while this cell waited for the one before it.
            if (session.Ended is { } ended) throw new SessionEndedException(sessionId, ended);
            if (_ended.TryGetValue(sessionId, out reason))
            {
                _sessions.TryRemove(new(sessionId, session));
                throw new SessionEndedException(sessionId, reason);
            }

            if (session.ProcessId is { } pid && Sandbox.ProcessIdOf(session.Code, PythonRunnerScript.FunctionName) != pid)
            {
                throw await EndAsync(session, "its process was ended, to make room for other work (SandboxOptions.MaxProcesses) or from outside").ConfigureAwait(false);
            }

            var mode = session.ProcessId is null ? 1 : 2;
            session.Touch();
            PythonRunResult result;
            try
            {
                result = await RunCellAsync(session.Code, code, mode, session, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                session.Touch();
            }

            if (session.Ended is null && Sandbox.ProcessIdOf(session.Code, PythonRunnerScript.FunctionName) is { } now)
            {
                session.ProcessId ??= now;
            }

            return result;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>Ends a session and its process; its next cell fails with <see cref="SessionEndedException"/>.</summary>
    /// <returns>False when no such session was alive.</returns>
    public async Task<bool> EndSessionAsync(string sessionId)
    {
        ArgumentNullException.ThrowIfNull(sessionId);
        if (!_sessions.TryGetValue(sessionId, out var session) || session.Ended is not null) return false;
        await EndAsync(session, "ended on request").ConfigureAwait(false);
        return true;
    }

    /// <summary>The operating system id of a session's process, while it has one.</summary>
    internal int? ProcessIdOf(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var s) && s.Ended is null ? Sandbox.ProcessIdOf(s.Code, PythonRunnerScript.FunctionName) : null;

    private async Task<PythonRunResult> RunCellAsync(string runner, string code, int mode, Session? session, CancellationToken cancellationToken)
    {
        var args = JsonSerializer.Serialize(code, LibraryJson.Default.String);
        var packed = PythonSandbox.Pack(
            string.Create(CultureInfo.InvariantCulture, $"[{args},{mode},{Options.MaxResultCharacters},{Options.MaxErrorCharacters}]"), null);
        SandboxResult reply;
        try
        {
            reply = await Sandbox.CallAsync(runner, PythonRunnerScript.FunctionName, packed, Options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (AnyDefException ex) when (ex is SandboxTimeoutException or SandboxCrashedException or SandboxMemoryException or PythonExecutionException or ResultTooLargeException)
        {
            var error = Bound(ex switch
            {
                SandboxTimeoutException => $"TimeoutError: the code did not finish within {Options.Timeout.TotalSeconds:0.###} s and was stopped.",
                SandboxCrashedException => "SandboxError: the sandbox process ended while the code ran (for example it tried to end its process, or it was killed); it has been replaced.",
                SandboxMemoryException => "MemoryError: the code used more memory than the sandbox allows; its process was recycled.",
                _ => ex.Message,
            }, Options.MaxErrorCharacters);
            string? endedBecause = null;
            if (session is not null && (ex is SandboxCrashedException or SandboxMemoryException
                || Sandbox.ProcessIdOf(session.Code, PythonRunnerScript.FunctionName) is null))
            {
                endedBecause = "its process ended during a cell: " + error;
                await EndAsync(session, endedBecause).ConfigureAwait(false);
                error += $" The session '{session.Id}' has ended: its variables are gone; start a new session to go on.";
            }

            return new PythonRunResult { Error = error, Session = session?.Id, SessionEnded = endedBecause };
        }

        return Interpret(reply, session);
    }

    private PythonRunResult Interpret(SandboxResult reply, Session? session)
    {
        using var doc = JsonDocument.Parse(reply.ResultJson);
        var root = doc.RootElement;
        if (root.TryGetProperty("lost", out _))
        {
            // A process that did not run this session's earlier cells: the session's own process is gone.
            throw EndSync(session!, "its process was ended, to make room for other work (SandboxOptions.MaxProcesses) or from outside");
        }

        var output = reply.Output;
        var outputCut = output.Length > Options.MaxOutputCharacters;
        if (outputCut) output = output[..Options.MaxOutputCharacters];
        string? json = null, text = null;
        var cut = root.TryGetProperty("truncated", out var t) && t.ValueKind == JsonValueKind.True;
        if (root.TryGetProperty("value", out var value))
        {
            var s = value.GetString() ?? "";
            if (root.GetProperty("kind").GetString() == "json" && IsJson(s)) json = s;
            else text = s;
        }

        var error = root.TryGetProperty("error", out var e) ? Bound(e.GetString() ?? "", Options.MaxErrorCharacters) : null;
        return new PythonRunResult
        {
            Output = output,
            OutputTruncated = outputCut,
            ResultJson = json,
            ResultText = text,
            ResultTruncated = cut,
            Error = error,
            Session = session?.Id,
        };
    }

    private static bool IsJson(string s)
    {
        try
        {
            using var _ = JsonDocument.Parse(s);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Bound(string text, int max) => text.Length <= max ? text : "..." + text[^(max - 3)..];

    private SessionEndedException EndSync(Session session, string reason)
    {
        _ = EndAsync(session, reason);
        return new SessionEndedException(session.Id, reason);
    }

    private async Task<SessionEndedException> EndAsync(Session session, string reason)
    {
        lock (session)
        {
            if (session.Ended is not null) return new SessionEndedException(session.Id, session.Ended);
            session.Ended = reason;
        }

        if (_ended.TryAdd(session.Id, reason))
        {
            _endedOrder.Enqueue(session.Id);
            while (_endedOrder.Count > RememberedEndedSessions && _endedOrder.TryDequeue(out var old)) _ended.TryRemove(old, out _);
        }

        _sessions.TryRemove(new(session.Id, session));
        await Sandbox.ForgetAsync(session.Code, PythonRunnerScript.FunctionName).ConfigureAwait(false);
        return new SessionEndedException(session.Id, reason);
    }

    private async Task EndIdleSessionsAsync()
    {
        var now = Environment.TickCount64;
        foreach (var session in _sessions.Values)
        {
            if (session.Ended is not null || now - session.LastUsed < Options.SessionIdleTimeout.TotalMilliseconds) continue;
            // A cell that runs now keeps its session: only one that waits for nothing is idle.
            if (!session.Gate.Wait(0)) continue;
            try
            {
                if (Environment.TickCount64 - session.LastUsed >= Options.SessionIdleTimeout.TotalMilliseconds)
                {
                    await EndAsync(session, $"unused for {Options.SessionIdleTimeout.TotalSeconds:0.###} s").ConfigureAwait(false);
                }
            }
            catch (Exception)
            {
                // Ending a process that is already gone has nothing left to do.
            }
            finally
            {
                session.Gate.Release();
            }
        }
    }

    /// <summary>Ends every session's process (the sandbox itself stays: it may be shared).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        if (_idleTimer is not null) await _idleTimer.DisposeAsync().ConfigureAwait(false);
        foreach (var session in _sessions.Values)
        {
            try
            {
                await EndAsync(session, "its runner was disposed").ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Disposal must not throw.
            }
        }
    }

    private sealed class Session(string id)
    {
        public string Id { get; } = id;

        // Its own code, so its own process: the sandbox keys processes by the code they run.
        public string Code { get; } = PythonRunnerScript.Code + "\n# session " + Guid.NewGuid().ToString("N") + "\n";

        public SemaphoreSlim Gate { get; } = new(1, 1);

        public int? ProcessId { get; set; }

        public volatile string? Ended;

        private long _lastUsed = Environment.TickCount64;

        public long LastUsed => Interlocked.Read(ref _lastUsed);

        public void Touch() => Interlocked.Exchange(ref _lastUsed, Environment.TickCount64);
    }
}
