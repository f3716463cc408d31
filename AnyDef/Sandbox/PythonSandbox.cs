using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnyDefNet;

/// <summary>
/// Runs Python functions in Pyodide inside Deno host processes that can read nothing but the Pyodide files and
/// reach nothing but a private socket. Each distinct piece of code gets its own process (its own interpreter), so
/// what one function leaves behind never reaches another; calls of one function are pipelined over its process, or
/// spread over several processes of that function when they queue (<see cref="SandboxOptions.MaxProcessesPerFunction"/>).
/// </summary>
/// <remarks>Thread-safe. Create one per set of options and keep it, or use <see cref="GetShared"/>.</remarks>
public sealed partial class PythonSandbox : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<SandboxOptions, Lazy<PythonSandbox>> s_shared = new();
    private readonly ConcurrentDictionary<string, FunctionGroup> _functions = new();
    private readonly ConcurrentQueue<Task<HostProcess>> _spares = new();
    private readonly Lock _spareLock = new();
    private readonly ILogger _logger;
    private Lazy<Task<(RuntimeLocation Location, string? Snapshot)>> _runtime;
    private volatile bool _disposed;

    /// <summary>Creates a sandbox; no process starts until the first call or <see cref="WarmUpAsync"/>.</summary>
    public PythonSandbox(SandboxOptions? options = null, ILogger? logger = null)
    {
        Options = options ?? SandboxOptions.Default;
        Options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _runtime = NewRuntime();
    }

    /// <summary>The settings this sandbox runs with.</summary>
    public SandboxOptions Options { get; }

    /// <summary>The sandbox shared by every caller with equal options; it lives as long as the application.</summary>
    public static PythonSandbox GetShared(SandboxOptions? options = null) =>
        s_shared.GetOrAdd(options ?? SandboxOptions.Default, o => new Lazy<PythonSandbox>(() => new PythonSandbox(o))).Value;

    /// <summary>Finds the runtime, makes the interpreter snapshot if needed and starts the spare processes.</summary>
    /// <exception cref="SandboxUnavailableException">Deno or Pyodide is missing or does not start.</exception>
    /// <exception cref="PackageException">A declared package is unknown, cannot be fetched, or does not match its hash.</exception>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await RuntimeAsync(cancellationToken).ConfigureAwait(false);
        await GetPackagesAsync(cancellationToken).ConfigureAwait(false);
        TopUpSpares();
        if (_spares.TryPeek(out var spare)) await spare.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="functionName"/> from <paramref name="code"/> with JSON arguments and returns its result as JSON.</summary>
    /// <param name="code">Python source that defines the function.</param>
    /// <param name="functionName">The function to call.</param>
    /// <param name="argumentsJson">The positional arguments, a JSON array.</param>
    /// <param name="keywordArgumentsJson">The keyword arguments, a JSON object, or null.</param>
    /// <param name="timeout">The most the call may run; the default is 30 seconds. <see cref="Timeout.InfiniteTimeSpan"/> sets no
    /// deadline (the call can still be cancelled); otherwise positive and at most about 24.8 days.</param>
    /// <param name="cancellationToken">Cancels the call; the sandbox interrupts it and its process stays.</param>
    /// <exception cref="PythonExecutionException">The code did not compile or the function raised.</exception>
    /// <exception cref="SandboxTimeoutException">The call ran past <paramref name="timeout"/>.</exception>
    /// <exception cref="SandboxCrashedException">The process died during the call, or sent what could not be understood.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeout"/> is outside its range.</exception>
    public Task<SandboxResult> RunAsync(string code, string functionName, string argumentsJson = "[]", string? keywordArgumentsJson = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentException.ThrowIfNullOrWhiteSpace(functionName);
        RequireJson(argumentsJson, JsonValueKind.Array, nameof(argumentsJson));
        if (keywordArgumentsJson is not null) RequireJson(keywordArgumentsJson, JsonValueKind.Object, nameof(keywordArgumentsJson));
        if (timeout is { } t) Timeouts.Require(t, nameof(timeout));
        return CallAsync(code, functionName, Pack(argumentsJson, keywordArgumentsJson), timeout ?? DefaultTimeout, cancellationToken);
    }

    /// <summary>The timeout used when a call names none.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);

    internal static string Pack(string argumentsJson, string? keywordArgumentsJson) => $"[{argumentsJson},{keywordArgumentsJson ?? "{}"}]";

    // A single call is a sequence of one input on the one path every call takes (see RunInputsAsync).
    internal async Task<SandboxResult> CallAsync(string code, string functionName, string packedArguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var call = SandboxCallTelemetry.Start(functionName, "call");
        var outcome = (await RunInputsAsync(code, functionName, [packedArguments], timeout, cancellationToken, call).ConfigureAwait(false))[0];

        if (outcome.Error is { } error)
        {
            call.Fail(error);
            if (error is OperationCanceledException) cancellationToken.ThrowIfCancellationRequested();
        }

        // The result, or the input's error thrown.
        return outcome.Result;
    }

    /// <summary>Runs the doctest examples of <paramref name="docstring"/> against the code; returns how many ran, failed, and the report.</summary>
    internal Task<(int Attempted, int Failed, string Report)> RunDoctestsAsync(string code, string functionName, string docstring,
        TimeSpan timeout, CancellationToken cancellationToken) =>
        RoundTripAsync("doctest", code, functionName, docstring, timeout, cancellationToken, reply =>
        {
            using var result = JsonDocument.Parse(Success(reply.Payload.RootElement, code, functionName, reply.Output).ResultJson);
            var r = result.RootElement;
            return (r.GetProperty("attempted").GetInt32(), r.GetProperty("failed").GetInt32(), r.GetProperty("report").GetString() ?? "");
        });

    /// <summary>
    /// Sends one request to the function's process and interprets Python's payload, or throws the host's typed verdict.
    /// A payload that cannot be interpreted ends that process and is a <see cref="SandboxCrashedException"/>.
    /// Whatever ends the round trip with an exception is recorded on <paramref name="call"/>.
    /// </summary>
    private async Task<T> RoundTripAsync<T>(string op, string code, string functionName, string args,
        TimeSpan timeout, CancellationToken cancellationToken, Func<HostReply, T> interpret, SandboxCallTelemetry call = default)
    {
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                var function = await LoadAsync(code, functionName, timeout, cancellationToken).ConfigureAwait(false);
                call.Sent(function.Host.ProcessId);
                using var reply = await function.Host.SendAsync(op, timeout, cancellationToken, args: args).ConfigureAwait(false);
                // A request queued behind one that brought its process down never ran: it goes to the replacement.
                if (!reply.Ok && reply.ErrorKind == "requeue" && attempt < 3) continue;
                if (!reply.Ok) throw Verdict(reply, functionName, timeout, cancellationToken);
                try
                {
                    return interpret(reply);
                }
                catch (Exception ex) when (ex is not AnyDefException)
                {
                    function.Host.MarkDead($"the sandbox host sent a payload that could not be understood ({ex.Message})");
                    throw Malformed(functionName, ex);
                }
            }
        }
        catch (Exception ex)
        {
            call.Fail(ex);
            throw;
        }
    }

    private static SandboxCrashedException Malformed(string functionName, Exception ex) =>
        new($"The sandbox process of '{functionName}' sent a reply that could not be understood ({ex.GetType().Name}: {ex.Message}). " +
            "It has been replaced; call again.", null, ex);

    /// <summary>Ends the process of code that will not be used again (a rejected candidate).</summary>
    internal async Task ForgetAsync(string code, string functionName)
    {
        if (!_functions.TryRemove(FunctionKey(code, functionName), out var group)) return;
        foreach (var entry in group.Close())
        {
            if (entry.Loaded is { } loaded) await loaded.Host.RetireAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Compiles the code in its own process (once) and returns the declared parameters of the function.</summary>
    internal async Task<IReadOnlyList<string>> GetParametersAsync(string code, string functionName, CancellationToken cancellationToken) =>
        (await LoadAsync(code, functionName, Options.StartTimeout, cancellationToken).ConfigureAwait(false)).Parameters;

    private static Exception Verdict(HostReply reply, string functionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        switch (reply.ErrorKind)
        {
            case "timeout":
                return new SandboxTimeoutException(functionName, timeout, reply.ErrorMessage ?? "timeout");
            case "cancelled" when cancellationToken.IsCancellationRequested:
                return new OperationCanceledException("The sandbox call was cancelled.", cancellationToken);
            case "memory":
                return new SandboxMemoryException($"The Python function '{functionName}' exceeded the sandbox memory budget: {reply.ErrorMessage}. " +
                    $"Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory.");
            default:
                return new SandboxCrashedException($"The sandbox process failed during '{functionName}' ({reply.ErrorKind}: {reply.ErrorMessage}). It has been replaced; call again.");
        }
    }

    private SandboxResult Success(JsonElement item, string code, string functionName, string output, TimeSpan? timeout = null) =>
        Outcome(item, code, functionName, output, timeout).Result;

    /// <summary>Python's payload for one call: its result, or the typed error it stands for (made, not thrown).</summary>
    /// <exception cref="InvalidOperationException">The payload is not one the runtime writes (a broken host).</exception>
    private SandboxOutcome Outcome(JsonElement item, string code, string functionName, string output, TimeSpan? timeout = null)
    {
        if (item.ValueKind != JsonValueKind.Object) throw new InvalidOperationException($"an outcome that is {item.ValueKind}, not an object");
        if (item.GetProperty("ok").GetBoolean()) return new SandboxOutcome(item.GetProperty("result").GetRawText(), output, null);
        // The host's own verdicts on one call (never anything a function returned).
        if (item.TryGetProperty("host", out var verdict))
        {
            var detail = item.GetProperty("message").GetString() ?? "";
            return SandboxOutcome.Failed(verdict.GetString() switch
            {
                "too_large" => new ResultTooLargeException(functionName, Options.MaxResultBytes),
                "timeout" => new SandboxTimeoutException(functionName, timeout ?? DefaultTimeout, detail),
                "memory" => new SandboxMemoryException($"The Python function '{functionName}' exceeded the sandbox memory budget: {detail}. " +
                    $"Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory."),
                _ => new SandboxCrashedException($"The sandbox process failed during '{functionName}' ({verdict.GetString()}: {detail}). It has been replaced; call again."),
            }, output);
        }

        var type = item.GetProperty("type").GetString() ?? "Exception";
        if (item.TryGetProperty("unencodable", out var value))
        {
            return SandboxOutcome.Failed(new ResultConversionException(functionName, value.GetString() ?? "", typeof(System.Text.Json.JsonElement), code,
                new InvalidOperationException($"{type}: {item.GetProperty("message").GetString()}")), output);
        }

        var message = item.GetProperty("message").GetString() ?? "";
        if (type == "MemoryError")
        {
            return SandboxOutcome.Failed(new SandboxMemoryException($"The Python function '{functionName}' ran out of memory (MemoryError{(message.Length > 0 ? ": " + message : "")}). " +
                $"Its process was recycled. Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory."), output);
        }

        return SandboxOutcome.Failed(new PythonExecutionException(functionName, type, message, item.GetProperty("traceback").GetString() ?? "", code, output), output);
    }

    // Checked where the text lies (no document is built): a call's arguments are read by Python, not here.
    private static void RequireJson(string json, JsonValueKind kind, string parameter)
    {
        var max = Encoding.UTF8.GetMaxByteCount(json.Length);
        byte[]? rented = null;
        Span<byte> buffer = max <= 1024 ? stackalloc byte[1024] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var reader = new Utf8JsonReader(buffer[..Encoding.UTF8.GetBytes(json, buffer)]);
            var start = kind == JsonValueKind.Array ? JsonTokenType.StartArray : JsonTokenType.StartObject;
            if (reader.Read() && reader.TokenType == start)
            {
                reader.Skip();
                if (!reader.Read()) return;
            }
        }
        catch (JsonException)
        {
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }

        throw new ArgumentException($"Expected a JSON {kind.ToString().ToLowerInvariant()}.", parameter);
    }

    // The key of a function's process, hashed once per piece of code: a call looks it up by the code it holds.
    private static readonly ConcurrentDictionary<(string Code, string Name), string> s_keys = new();

    internal static string FunctionKey(string code, string functionName)
    {
        if (s_keys.TryGetValue((code, functionName), out var key)) return key;
        key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(functionName + "\0" + code)))[..32];
        // Bounded: an application that makes code without end does not keep it all.
        if (s_keys.Count >= 4096) s_keys.Clear();
        s_keys[(code, functionName)] = key;
        return key;
    }

    /// <summary>Ends every process this sandbox started; processes still starting are ended at once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        _lifetime.Cancel();
        var hosts = new List<Task<HostProcess>>();
        while (_spares.TryDequeue(out var s)) hosts.Add(s);
        foreach (var entry in _functions.Values.SelectMany(g => g.Close()))
        {
            entry.Abandon.Cancel();
            if (entry.Loaded is { } loaded) hosts.Add(Task.FromResult(loaded.Host));
            else if (entry.IsStarted) hosts.Add(entry.Load.ContinueWith(t => t.Result.Host, TaskScheduler.Default));
        }

        _functions.Clear();
        foreach (var t in hosts)
        {
            try
            {
                await (await t.ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // A process that never started has nothing to end; disposal must not throw.
            }
        }
    }
}
