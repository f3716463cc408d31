using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;
using AnyDefNet.Telemetry;

namespace AnyDefNet;

// A batch is many calls sharing a process, not one call: the inputs go to the host in chunks, each input has its own
// timeout and its own outcome, and an input that brings the process down costs only itself. The host answers a chunk
// with the outcomes of the inputs it ran, in order; the inputs it did not run (after one that ended or spent the
// process, or once the chunk's output is full) are sent again, to a fresh process when the old one is gone.
public sealed partial class PythonSandbox
{
    private const int FirstChunkInputs = 8;
    private const int MaxChunkInputs = 4096;
    private const int MaxChunkArgumentBytes = 1024 * 1024;
    private static readonly TimeSpan ChunkTarget = TimeSpan.FromMilliseconds(20);

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
    /// ready, in input order; neither the inputs nor the outcomes are held in memory beyond the chunk in flight.
    /// </summary>
    /// <param name="code">Python source that defines the function.</param>
    /// <param name="functionName">The function to call.</param>
    /// <param name="argumentsJson">One JSON array of positional arguments per input.</param>
    /// <param name="timeout">The most each input may run; the default is 30 seconds.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
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
            SandboxBatchResult result;
            try
            {
                result = new SandboxBatchResult(outcome().ResultJson, null);
            }
            catch (AnyDefException ex)
            {
                result = new SandboxBatchResult(null, ex);
            }

            yield return result;
        }
    }

    /// <summary>Runs one function over many argument lists; outcomes in input order.</summary>
    internal async Task<IReadOnlyList<Func<SandboxResult>>> CallBatchAsync(string code, string functionName, IReadOnlyList<string> packedArguments,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        var outcomes = new List<Func<SandboxResult>>(packedArguments.Count);
        await foreach (var o in CallBatchStreamAsync(code, functionName, packedArguments.ToAsyncEnumerable(), timeout, cancellationToken).ConfigureAwait(false))
        {
            outcomes.Add(o);
        }

        return outcomes;
    }

    /// <summary>Streams one outcome per packed argument list, in order; each outcome returns the result or throws the input's error.</summary>
    /// <remarks>
    /// Two chunks are in flight at a time, so the host starts the next chunk as soon as one ends and a round trip costs
    /// no waiting. When a chunk comes back short (an input ended or spent its process, or the chunk's output was full),
    /// the inputs it did not run are sent again at the head of the line, so outcomes keep the input order.
    /// </remarks>
    internal async IAsyncEnumerable<Func<SandboxResult>> CallBatchStreamAsync(string code, string functionName, IAsyncEnumerable<string> packedArguments,
        TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var inFlight = new LinkedList<(List<string> Inputs, Task<List<Func<SandboxResult>>> Outcomes)>();
        var size = FirstChunkInputs;
        var fruitless = 0;
        var more = true;
        var lastDone = Stopwatch.GetTimestamp();
        var source = packedArguments.GetAsyncEnumerator(cancellationToken);
        await using var _ = source.ConfigureAwait(false);
        Task<List<Func<SandboxResult>>> Send(List<string> inputs) => RunChunkAsync(code, functionName, inputs, timeout, cancellationToken);
        // An input the source has not produced yet never holds back what is ready: the chunk goes as it is, and
        // outcomes in flight are delivered while the source is awaited.
        Task<bool>? nextMove = null;
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

                if (chunk.Count > 0) inFlight.AddLast((chunk, Send(chunk)));
                if (nextMove is not null) break;
            }

            if (inFlight.First is not { } head) yield break;
            inFlight.RemoveFirst();
            var outcomes = await head.Value.Outcomes.ConfigureAwait(false);
            var sent = head.Value.Inputs;

            // A chunk that ran nothing (an interrupt that landed between inputs) is sent again; twice is a failure.
            if (outcomes.Count == 0 && ++fruitless >= 2)
            {
                var error = new SandboxCrashedException($"The sandbox ran none of the inputs sent to '{functionName}' twice in a row. Call again.");
                outcomes = [() => throw error];
            }
            else if (outcomes.Count > 0)
            {
                fruitless = 0;
            }

            if (outcomes.Count < sent.Count) inFlight.AddFirst((sent.GetRange(outcomes.Count, sent.Count - outcomes.Count), Send(sent.GetRange(outcomes.Count, sent.Count - outcomes.Count))));
            foreach (var o in outcomes) yield return o;
            var now = Stopwatch.GetTimestamp();
            size = NextChunkSize(size, outcomes.Count, sent.Count, Stopwatch.GetElapsedTime(lastDone, now));
            lastDone = now;
        }
    }

    private static int NextChunkSize(int size, int ran, int sent, TimeSpan elapsed)
    {
        if (ran < sent) return Math.Max(1, Math.Min(size, ran * 2));
        if (elapsed <= ChunkTarget / 8) return Math.Min(MaxChunkInputs, size * 8);
        var fitting = (int)Math.Clamp(ran * (ChunkTarget / elapsed), 1, MaxChunkInputs);
        return Math.Min(fitting, size * 2);
    }

    private async Task<List<Func<SandboxResult>>> RunChunkAsync(string code, string functionName, List<string> inputs, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var count = inputs.Count;
        var batch = new StringBuilder("[");
        for (var i = 0; i < count; i++)
        {
            if (i > 0) batch.Append(',');
            batch.Append(inputs[i]);
        }

        batch.Append(']');
        using var call = SandboxCallTelemetry.Start(functionName, "batch");
        try
        {
            return await RoundTripAsync("batch", code, functionName, batch.ToString(), timeout, cancellationToken, reply =>
            {
                // More outcomes than inputs would shift every later input's result: the host let through what it must
                // not, and none of them can be trusted.
                if (reply.Payload.RootElement.GetArrayLength() > count)
                {
                    throw new SandboxCrashedException($"The sandbox process answered a batch of {count} inputs with {reply.Payload.RootElement.GetArrayLength()} outcomes. " +
                        "None of them was used; call again.", "");
                }

                var outcomes = new List<Func<SandboxResult>>(count);
                foreach (var item in reply.Payload.RootElement.EnumerateArray()) outcomes.Add(Capture(() => Success(item, code, functionName, "", timeout), functionName));

                return outcomes;
            }, call).ConfigureAwait(false);
        }
        catch (AnyDefException ex) when (ex is SandboxCrashedException or SandboxMemoryException or SandboxTimeoutException)
        {
            // The process ended without naming the input (killed from outside or by the kernel): none of this chunk's
            // outcomes reached the library. Chunks are kept short, so few inputs share that fate.
            return [.. Enumerable.Repeat<Func<SandboxResult>>(() => throw ex, count)];
        }
    }
}
