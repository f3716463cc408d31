using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using AnyDefNet.Internal;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Telemetry;

namespace AnyDefNet;

// One path for every call. A single call, calls pipelined from many tasks, a batch and a stream are the same thing on
// every hop: a sequence of inputs, each with its own id, deadline, cancellation and outcome, sent to the function's
// process in one write and grouped by the host as they queue. A batch only decides how many inputs are in flight at
// once (chunks, two at a time, sized to the function's speed); an input that brings its process down costs only itself,
// and the inputs the process never started are sent again, to a fresh process, in order. No input runs twice.
public sealed partial class PythonSandbox
{
    private const int FirstChunkInputs = 8;
    private const int MaxChunkInputs = 4096;
    private const int MaxChunkArgumentBytes = 1024 * 1024;
    private static readonly TimeSpan ChunkTarget = TimeSpan.FromMilliseconds(20);

    // Rounds in a row in which a process ran none of the inputs sent to it before the inputs are given up on.
    private const int FruitlessRounds = 3;

    /// <summary>Runs one function over many positional-argument arrays; one outcome per input, in input order.</summary>
    /// <param name="code">Python source that defines the function.</param>
    /// <param name="functionName">The function to call.</param>
    /// <param name="argumentsJson">One JSON array of positional arguments per input.</param>
    /// <param name="timeout">The most each input may run; the default is 30 seconds.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    /// <remarks>
    /// An input that raises, times out, runs out of memory, returns too much or brings its process down gets its own
    /// error outcome; the batch goes on with the next input (in a fresh process when needed). No input is run twice.
    /// </remarks>
    public async Task<IReadOnlyList<SandboxBatchResult>> RunBatchAsync(string code, string functionName, IReadOnlyList<string> argumentsJson,
        TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(argumentsJson);
        if (timeout is { } t) Timeouts.Require(t, nameof(timeout));
        foreach (var a in argumentsJson) RequireJson(a, JsonValueKind.Array, nameof(argumentsJson));
        var results = new List<SandboxBatchResult>(argumentsJson.Count);
        await foreach (var r in StreamBatchAsync(code, functionName, argumentsJson.ToAsyncEnumerable(), timeout, cancellationToken).ConfigureAwait(false))
        {
            results.Add(r);
        }

        return results;
    }

    /// <summary>
    /// Runs one function over a stream of positional-argument arrays and yields each input's outcome as soon as it is
    /// ready, in input order; neither the inputs nor the outcomes are held in memory beyond the inputs in flight.
    /// </summary>
    /// <param name="code">Python source that defines the function.</param>
    /// <param name="functionName">The function to call.</param>
    /// <param name="argumentsJson">One JSON array of positional arguments per input.</param>
    /// <param name="timeout">The most each input may run; the default is 30 seconds.</param>
    /// <param name="cancellationToken">Cancels the batch; the outcomes of inputs that finished before it are still yielded.</param>
    /// <exception cref="ArgumentException">An input is not a JSON array (raised when the stream reaches it).</exception>
    public async IAsyncEnumerable<SandboxBatchResult> StreamBatchAsync(string code, string functionName, IAsyncEnumerable<string> argumentsJson,
        TimeSpan? timeout = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(code);
        ArgumentException.ThrowIfNullOrWhiteSpace(functionName);
        ArgumentNullException.ThrowIfNull(argumentsJson);
        if (timeout is { } t) Timeouts.Require(t, nameof(timeout));
        var packed = argumentsJson.Select(a =>
        {
            RequireJson(a, JsonValueKind.Array, nameof(argumentsJson));
            return Pack(a, null);
        });
        await foreach (var outcome in CallBatchStreamAsync(code, functionName, packed, timeout ?? DefaultTimeout, cancellationToken).ConfigureAwait(false))
        {
            yield return new SandboxBatchResult(outcome.ResultJson, (AnyDefException?)outcome.Error);
        }
    }

    /// <summary>Runs one function over many argument lists; outcomes in input order.</summary>
    internal async Task<IReadOnlyList<SandboxOutcome>> CallBatchAsync(string code, string functionName, IReadOnlyList<string> packedArguments,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var outcomes = new List<SandboxOutcome>(packedArguments.Count);
        await foreach (var o in CallBatchStreamAsync(code, functionName, packedArguments.ToAsyncEnumerable(), timeout, cancellationToken).ConfigureAwait(false))
        {
            outcomes.Add(o);
        }

        return outcomes;
    }

    /// <summary>Streams one outcome per packed argument list, in order; an input's error is its outcome, never thrown.</summary>
    /// <remarks>
    /// Two chunks are in flight at a time, so the host starts the next chunk as soon as one ends and a round trip costs
    /// no waiting. When the batch is cancelled, the outcomes that arrived before are yielded and then the cancellation is thrown.
    /// </remarks>
    internal async IAsyncEnumerable<SandboxOutcome> CallBatchStreamAsync(string code, string functionName, IAsyncEnumerable<string> packedArguments,
        TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var inFlight = new Queue<(int Count, Task<SandboxOutcome[]> Outcomes)>();
        var size = FirstChunkInputs;
        var more = true;
        var lastDone = Stopwatch.GetTimestamp();
        var source = packedArguments.GetAsyncEnumerator(cancellationToken);
        await using var _ = source.ConfigureAwait(false);
        // An input the source has not produced yet never holds back what is ready: the chunk goes as it is, and
        // outcomes in flight are delivered while the source is awaited.
        Task<bool>? nextMove = null;
        Task? previous = null;
        while (true)
        {
            while (more && inFlight.Count < 2)
            {
                var chunk = new List<string>();
                var bytes = 0L;
                while (chunk.Count < size && bytes < MaxChunkArgumentBytes)
                {
                    nextMove ??= source.MoveNextAsync().AsTask();
                    if (!nextMove.IsCompleted && (chunk.Count > 0 || inFlight.Count > 0)) break;
                    more = await nextMove.ConfigureAwait(false);
                    nextMove = null;
                    if (!more) break;
                    chunk.Add(source.Current);
                    bytes += source.Current.Length;
                }

                if (chunk.Count > 0)
                {
                    var sent = RunChunkAsync(code, functionName, chunk, timeout, previous, cancellationToken);
                    inFlight.Enqueue((chunk.Count, sent));
                    previous = sent;
                }
                if (nextMove is not null) break;
            }

            if (!inFlight.TryDequeue(out var head)) yield break;
            var outcomes = await head.Outcomes.ConfigureAwait(false);
            foreach (var o in outcomes)
            {
                if (o.Cancelled) cancellationToken.ThrowIfCancellationRequested();
                yield return o;
            }

            var now = Stopwatch.GetTimestamp();
            size = NextChunkSize(size, head.Count, Stopwatch.GetElapsedTime(lastDone, now));
            lastDone = now;
        }
    }

    private static int NextChunkSize(int size, int ran, TimeSpan elapsed)
    {
        if (elapsed <= ChunkTarget / 8) return Math.Min(MaxChunkInputs, size * 8);
        var fitting = (int)Math.Clamp(ran * (ChunkTarget / elapsed), 1, MaxChunkInputs);
        return Math.Min(fitting, size * 2);
    }

    private async Task<SandboxOutcome[]> RunChunkAsync(string code, string functionName, List<string> inputs, TimeSpan timeout, Task? previous,
        CancellationToken cancellationToken)
    {
        using var call = SandboxCallTelemetry.Start(functionName, "batch");
        return await RunInputsAsync(code, functionName, inputs, timeout, cancellationToken, call, previous).ConfigureAwait(false);
    }

    /// <summary>
    /// The one path: sends the inputs to a process of the function, in order and in one write, and returns each input's
    /// outcome. Inputs the process never started (it ended because of another input, or was retired) are sent again,
    /// in order, to a fresh process; inputs it finished keep their outcome. Cancellation ends the inputs still in
    /// flight with <see cref="OperationCanceledException"/> as their outcome and keeps the others.
    /// </summary>
    /// <remarks>Inputs sent again wait first for <c>previous</c> (the inputs sent before these, a batch's earlier chunk) to
    /// end, so that inputs keep their order across processes and a later input's crash never starves an earlier one.</remarks>
    /// <exception cref="AnyDefException">The function could not be loaded (it does not compile, the sandbox is unavailable);
    /// recorded on <paramref name="call"/> too.</exception>
    internal async Task<SandboxOutcome[]> RunInputsAsync(string code, string functionName, IReadOnlyList<string> inputs, TimeSpan timeout,
        CancellationToken cancellationToken, SandboxCallTelemetry call, Task? previous = null)
    {
        var outcomes = new SandboxOutcome[inputs.Count];
        IReadOnlyList<string> sending = inputs;
        // Where each input being sent belongs among the outcomes.
        int[] slots = [.. Enumerable.Range(0, inputs.Count)];
        for (var fruitless = 0; ;)
        {
            LoadedFunction function;
            try
            {
                function = await LoadAsync(code, functionName, timeout, cancellationToken, sending.Count).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return Fill(outcomes, slots, new OperationCanceledException("The sandbox call was cancelled.", cancellationToken));
            }
            catch (AnyDefException ex) when (ex is SandboxCrashedException or SandboxMemoryException or SandboxTimeoutException && inputs.Count > 1)
            {
                // The process ended while it loaded the function: none of these inputs ran, and each of them says so.
                return Fill(outcomes, slots, ex);
            }
            catch (Exception ex)
            {
                call.Fail(ex);
                throw;
            }

            call.Sent(function.Host.ProcessId);
            var group = await function.Host.SendCallsAsync(sending, timeout, cancellationToken).ConfigureAwait(false);
            List<int>? requeued = null;
            for (var i = 0; i < group.Count; i++)
            {
                var slot = slots[i];
                using var reply = group.Reply(i);
                if (reply is { Ok: false, ErrorKind: "requeue" })
                {
                    (requeued ??= []).Add(slot);
                    continue;
                }

                outcomes[slot] = reply is null ? SandboxOutcome.Failed(group.Error(i)!) : Interpret(reply, function, code, functionName, timeout, cancellationToken);
            }

            if (requeued is null) return outcomes;
            fruitless = requeued.Count == group.Count ? fruitless + 1 : 0;
            if (fruitless >= FruitlessRounds)
            {
                var error = new SandboxCrashedException($"The sandbox ran none of the inputs sent to '{functionName}' {FruitlessRounds} times in a row. Call again.");
                foreach (var slot in requeued) outcomes[slot] = SandboxOutcome.Failed(error);
                return outcomes;
            }

            slots = [.. requeued];
            sending = [.. requeued.Select(s => inputs[s])];
            if (previous is not null)
            {
                await previous.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
                previous = null;
            }
        }
    }

    private static SandboxOutcome[] Fill(SandboxOutcome[] outcomes, int[] slots, Exception error)
    {
        foreach (var slot in slots) outcomes[slot] = SandboxOutcome.Failed(error);
        return outcomes;
    }

    // One reply as the input's outcome; a payload that cannot be understood ends the process and is that input's crash.
    private SandboxOutcome Interpret(HostReply reply, LoadedFunction function, string code, string functionName, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!reply.Ok) return SandboxOutcome.Failed(Verdict(reply, functionName, timeout, cancellationToken), reply.Output);
        try
        {
            return reply.TryGetResult(out var result)
                ? new SandboxOutcome(result, reply.Output, null)
                : Outcome(reply.Payload.RootElement, code, functionName, reply.Output, timeout);
        }
        catch (Exception ex) when (ex is not AnyDefException)
        {
            function.Host.MarkDead($"the sandbox host sent a payload that could not be understood ({ex.Message})");
            return SandboxOutcome.Failed(Malformed(functionName, ex));
        }
    }
}
