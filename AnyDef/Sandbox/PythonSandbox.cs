using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnyDefNet;

/// <summary>
/// Runs Python functions in Pyodide inside Deno host processes that can read nothing but the Pyodide files and
/// reach nothing but a private socket. Each distinct piece of code gets its own process (its own interpreter), so
/// what one function leaves behind never reaches another; calls of one function are pipelined over its process.
/// </summary>
/// <remarks>Thread-safe. Create one per set of options and keep it, or use <see cref="GetShared"/>.</remarks>
public sealed partial class PythonSandbox : IAsyncDisposable
{
    private static readonly ConcurrentDictionary<SandboxOptions, Lazy<PythonSandbox>> s_shared = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<LoadedFunction>>> _functions = new();
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
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        await RuntimeAsync(cancellationToken).ConfigureAwait(false);
        TopUpSpares();
        if (_spares.TryPeek(out var spare)) await spare.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <paramref name="functionName"/> from <paramref name="code"/> with JSON arguments and returns its result as JSON.</summary>
    /// <param name="code">Python source that defines the function.</param>
    /// <param name="functionName">The function to call.</param>
    /// <param name="argumentsJson">The positional arguments, a JSON array.</param>
    /// <param name="keywordArgumentsJson">The keyword arguments, a JSON object, or null.</param>
    /// <param name="timeout">The most the call may run; the default is 30 seconds.</param>
    /// <param name="cancellationToken">Cancels the call; the sandbox interrupts it and stays healthy.</param>
    /// <exception cref="PythonExecutionException">The code did not compile or the function raised.</exception>
    /// <exception cref="SandboxTimeoutException">The call ran past <paramref name="timeout"/>.</exception>
    /// <exception cref="SandboxCrashedException">The process died during the call.</exception>
    public Task<SandboxResult> RunAsync(string code, string functionName, string argumentsJson = "[]", string? keywordArgumentsJson = null,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentException.ThrowIfNullOrWhiteSpace(functionName);
        RequireJson(argumentsJson, JsonValueKind.Array, nameof(argumentsJson));
        if (keywordArgumentsJson is not null) RequireJson(keywordArgumentsJson, JsonValueKind.Object, nameof(keywordArgumentsJson));
        return CallAsync(code, functionName, Pack(argumentsJson, keywordArgumentsJson), timeout ?? DefaultTimeout, cancellationToken);
    }

    /// <summary>The timeout used when a call names none.</summary>
    public static TimeSpan DefaultTimeout { get; } = TimeSpan.FromSeconds(30);

    internal static string Pack(string argumentsJson, string? keywordArgumentsJson) => $"[{argumentsJson},{keywordArgumentsJson ?? "{}"}]";

    internal async Task<SandboxResult> CallAsync(string code, string functionName, string packedArguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (payload, output) = await RoundTripAsync("call", code, functionName, packedArguments, timeout, cancellationToken).ConfigureAwait(false);
        using (payload) return Success(payload.RootElement, code, functionName, output, timeout);
    }

    /// <summary>Runs the doctest examples of <paramref name="docstring"/> against the code; returns how many ran, failed, and the report.</summary>
    internal async Task<(int Attempted, int Failed, string Report)> RunDoctestsAsync(string code, string functionName, string docstring,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var (payload, output) = await RoundTripAsync("doctest", code, functionName, docstring, timeout, cancellationToken).ConfigureAwait(false);
        using (payload)
        {
            using var result = JsonDocument.Parse(Success(payload.RootElement, code, functionName, output).ResultJson);
            var r = result.RootElement;
            return (r.GetProperty("attempted").GetInt32(), r.GetProperty("failed").GetInt32(), r.GetProperty("report").GetString() ?? "");
        }
    }

    /// <summary>Sends one request to the function's process and returns Python's payload, or throws the host's typed verdict.</summary>
    private async Task<(JsonDocument Payload, string Output)> RoundTripAsync(string op, string code, string functionName, string args,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var function = await LoadAsync(code, functionName, cancellationToken).ConfigureAwait(false);
            var reply = await function.Host.SendAsync(op, timeout, cancellationToken, args: args).ConfigureAwait(false);
            // A request queued behind one that brought its process down never ran: it goes to the replacement.
            if (!reply.Ok && reply.ErrorKind == "requeue" && attempt < 3) continue;
            return (Outcome(reply, code, functionName, timeout, cancellationToken), reply.Output);
        }
    }

    /// <summary>Ends the process of code that will not be used again (a rejected candidate).</summary>
    internal async Task ForgetAsync(string code, string functionName)
    {
        if (_functions.TryRemove(FunctionKey(code, functionName), out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
        {
            await lazy.Value.Result.Host.RetireAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Compiles the code in its own process (once) and returns the declared parameters of the function.</summary>
    internal async Task<IReadOnlyList<string>> GetParametersAsync(string code, string functionName, CancellationToken cancellationToken) =>
        (await LoadAsync(code, functionName, cancellationToken).ConfigureAwait(false)).Parameters;

    internal static Func<SandboxResult> Capture(Func<SandboxResult> f)
    {
        try
        {
            var r = f();
            return () => r;
        }
        catch (Exception ex)
        {
            return () => throw ex;
        }
    }

    private static JsonDocument Outcome(HostReply reply, string code, string functionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (reply.Ok) return JsonDocument.Parse(reply.Payload!);
        switch (reply.ErrorKind)
        {
            case "timeout":
                throw new SandboxTimeoutException(functionName, timeout, reply.ErrorMessage ?? "timeout");
            case "cancelled":
                throw new OperationCanceledException("The sandbox call was cancelled.", cancellationToken);
            case "memory":
                throw new SandboxMemoryException($"The Python function '{functionName}' exceeded the sandbox memory budget: {reply.ErrorMessage}. " +
                    $"Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory.");
            default:
                throw new SandboxCrashedException($"The sandbox process failed during '{functionName}' ({reply.ErrorKind}: {reply.ErrorMessage}). It has been replaced; call again.");
        }
    }

    private SandboxResult Success(JsonElement item, string code, string functionName, string output, TimeSpan? timeout = null)
    {
        if (item.GetProperty("ok").GetBoolean()) return new SandboxResult(item.GetProperty("result").GetRawText(), output);
        // The host's own verdicts on one call or one input of a batch (never anything a function returned).
        if (item.TryGetProperty("host", out var verdict))
        {
            var detail = item.GetProperty("message").GetString() ?? "";
            throw verdict.GetString() switch
            {
                "too_large" => new ResultTooLargeException(functionName, Options.MaxResultBytes),
                "timeout" => new SandboxTimeoutException(functionName, timeout ?? DefaultTimeout, detail),
                "memory" => new SandboxMemoryException($"The Python function '{functionName}' exceeded the sandbox memory budget: {detail}. " +
                    $"Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory."),
                _ => new SandboxCrashedException($"The sandbox process failed during '{functionName}' ({verdict.GetString()}: {detail}). It has been replaced; call again."),
            };
        }

        var type = item.GetProperty("type").GetString() ?? "Exception";
        if (item.TryGetProperty("unencodable", out var value))
        {
            throw new ResultConversionException(functionName, value.GetString() ?? "", typeof(System.Text.Json.JsonElement), code,
                new InvalidOperationException($"{type}: {item.GetProperty("message").GetString()}"));
        }

        var message = item.GetProperty("message").GetString() ?? "";
        if (type == "MemoryError")
        {
            throw new SandboxMemoryException($"The Python function '{functionName}' ran out of memory (MemoryError{(message.Length > 0 ? ": " + message : "")}). " +
                $"Its process was recycled. Raise {nameof(SandboxOptions)}.{nameof(SandboxOptions.MemoryLimitMegabytes)} or use less memory.");
        }

        throw new PythonExecutionException(functionName, type, message, item.GetProperty("traceback").GetString() ?? "", code, output);
    }

    private static void RequireJson(string json, JsonValueKind kind, string parameter)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind == kind) return;
        }
        catch (JsonException)
        {
        }

        throw new ArgumentException($"Expected a JSON {kind.ToString().ToLowerInvariant()}.", parameter);
    }

    internal static string FunctionKey(string code, string functionName) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(functionName + "\0" + code)))[..32];

    /// <summary>Ends every process this sandbox started.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        var hosts = new List<Task<HostProcess>>();
        while (_spares.TryDequeue(out var s)) hosts.Add(s);
        foreach (var lazy in _functions.Values) if (lazy.IsValueCreated) hosts.Add(lazy.Value.ContinueWith(t => t.Result.Host, TaskScheduler.Default));
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
