using System.Diagnostics;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// A hot function uses more than one process: when its calls queue, the sandbox starts another process for it (up to
/// <see cref="SandboxOptions.MaxProcessesPerFunction"/>) and spreads the calls; each process is its own interpreter.
/// </summary>
[Trait("Category", "Sandbox")]
public sealed class ReplicaSpecs
{
    // Each interpreter draws its own token once (JavaScript globals outlive a call's Python namespace), so the tokens
    // seen tell how many processes served the calls.
    private const string Code = """
        def slow(seconds):
            import js, time
            if not hasattr(js.globalThis, "replica_token"):
                js.globalThis.replica_token = str(js.Math.random())
            time.sleep(seconds)
            return js.globalThis.replica_token
        """;

    // A private copy of the host scripts, so that this test's Deno processes (and no one else's) carry its path.
    private static async Task<(SandboxOptions Options, string Marker)> OptionsAsync(int perFunction)
    {
        var runtime = await RuntimeLocation.ResolveAsync(TestEnvironment.Sandbox, CancellationToken.None);
        var dir = TestEnvironment.TempDir();
        foreach (var file in new[] { runtime.HostScript, runtime.WorkerScript, runtime.TransportScript, runtime.RuntimeScript })
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        return (TestEnvironment.Sandbox with { HostDirectory = dir, MaxProcesses = 4, SpareProcesses = 1, MaxProcessesPerFunction = perFunction }, dir);
    }

    // Waves of parallel slow calls, until as many processes as expected served them (or enough waves passed).
    private static async Task<HashSet<string>> ServeWavesAsync(PythonSandbox sandbox, int until, int waves)
    {
        var tokens = new HashSet<string>();
        for (var wave = 0; wave < waves && tokens.Count < until; wave++)
        {
            var calls = Enumerable.Range(0, 6).Select(_ => sandbox.RunAsync(Code, "slow", "[0.2]", timeout: TimeSpan.FromSeconds(60)));
            foreach (var result in await Task.WhenAll(calls)) tokens.Add(JsonSerializer.Deserialize<string>(result.ResultJson)!);
        }

        return tokens;
    }

    // Sixteen callers, each calling again as soon as its call returns, for longer than a second process takes to start
    // from the spare; the token of the process that answered each call.
    private static async Task<IReadOnlyCollection<string>> PipelineAsync(PythonSandbox sandbox, string code, string function)
    {
        var tokens = new System.Collections.Concurrent.ConcurrentBag<string>();
        var until = DateTime.UtcNow.AddSeconds(5);
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (DateTime.UtcNow < until) tokens.Add(JsonSerializer.Deserialize<string>((await sandbox.RunAsync(code, function, "[0]")).ResultJson)!);
        }));
        return tokens;
    }

    // This test's own Deno processes, once a spare that is still being launched has appeared.
    private static async Task<int> DenoProcessesAsync(string marker, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (ProcessTree.DenoDescendants(marker).Count != expected && DateTime.UtcNow < deadline) await Task.Delay(100);
        return ProcessTree.DenoDescendants(marker).Count;
    }

    [Fact]
    public async Task With_two_processes_per_function_slow_parallel_calls_are_served_by_two_processes()
    {
        // Arrange
        var (options, marker) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options);

        // Act
        var tokens = await ServeWavesAsync(sandbox, until: 2, waves: 30);

        // Assert
        tokens.Should().HaveCount(2, "a second process started when calls queued, and took calls");
        var pids = sandbox.ProcessIdsOf(Code, "slow");
        pids.Should().HaveCount(2);
        (await DenoProcessesAsync(marker, 2 + 1)).Should().Be(2 + 1, "two processes serve the function, and one spare waits");
    }

    [Fact]
    public async Task With_one_process_per_function_every_call_goes_to_the_same_process()
    {
        // Arrange
        var (options, marker) = await OptionsAsync(perFunction: 1);
        await using var sandbox = new PythonSandbox(options);

        // Act
        var tokens = await ServeWavesAsync(sandbox, until: 2, waves: 4);

        // Assert
        tokens.Should().HaveCount(1);
        sandbox.ProcessIdsOf(Code, "slow").Should().HaveCount(1);
        (await DenoProcessesAsync(marker, 1 + 1)).Should().Be(1 + 1, "one process serves the function, and one spare waits");
    }

    [Fact]
    public async Task Quick_calls_that_queue_only_briefly_stay_in_the_functions_first_process()
    {
        // Arrange: any queue counts as short, so only the rule that sends quick calls to the first process decides.
        var (options, _) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options with { QueueTarget = TimeSpan.FromHours(1) });
        await sandbox.RunAsync(Code, "slow", "[0]");

        // Act
        var tokens = await PipelineAsync(sandbox, Code, "slow");

        // Assert
        tokens.Should().HaveCountGreaterThan(16);
        tokens.Distinct().Should().ContainSingle("calls that queue briefly cost less in one process than spread over two");
        sandbox.ProcessIdsOf(Code, "slow").Should().ContainSingle("no second process was started for them");
    }

    [Fact]
    public async Task A_quick_call_does_not_wait_behind_a_long_call_of_a_usually_quick_function()
    {
        // Arrange: the function's calls have been quick, so its average says that a queue of two or three is short.
        var (options, _) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options);
        for (var i = 0; i < 20; i++) await sandbox.RunAsync(Code, "slow", "[0]");
        var first = sandbox.ProcessIdsOf(Code, "slow").Should().ContainSingle().Subject;
        var longCall = sandbox.RunAsync(Code, "slow", "[10]", timeout: TimeSpan.FromSeconds(60));
        await Task.Delay(200);
        // One call sent while the long one runs: the function's process has been busy with it for longer than a short
        // queue's worth, so this call gets the function another process (and waits where it is until that is ready).
        var queued = sandbox.RunAsync(Code, "slow", "[0]", timeout: TimeSpan.FromSeconds(60));
        var deadline = DateTime.UtcNow.AddSeconds(8);
        while (sandbox.ProcessIdsOf(Code, "slow").Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(50);

        // Act
        var next = sandbox.RunAsync(Code, "slow", "[0]", timeout: TimeSpan.FromSeconds(60));
        await Task.WhenAny(next, longCall);
        var answeredWhileItRan = next.IsCompletedSuccessfully && !longCall.IsCompleted;
        await Task.WhenAll(longCall, queued, next);

        // Assert
        answeredWhileItRan.Should().BeTrue("a call sent while the function's process is busy with a long call goes to its other process");
        sandbox.ProcessIdsOf(Code, "slow").Should().HaveCount(2).And.Contain(first);
    }

    // Replaces the JavaScript clocks of its worker with ones that say ten hours pass in every call, then answers at once.
    private const string ForgedClock = """
        def forge(x):
            import js
            from pyodide.ffi import create_proxy
            if not hasattr(js.globalThis, "replica_token"):
                js.globalThis.replica_token = str(js.Math.random())
                js.globalThis.forged_now = 0
            def later(*args):
                js.globalThis.forged_now = js.globalThis.forged_now + 36000000
                return js.globalThis.forged_now
            js.performance.now = create_proxy(later)
            js.Date.now = create_proxy(later)
            return js.globalThis.replica_token
        """;

    [Fact]
    public async Task A_function_that_replaces_its_workers_clocks_cannot_make_its_calls_look_long()
    {
        // Arrange: a queue counts as long only past an hour of Python, so only calls that look hours long would spread.
        var (options, _) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options with { QueueTarget = TimeSpan.FromHours(1) });
        await sandbox.RunAsync(ForgedClock, "forge", "[0]");

        // Act
        var tokens = await PipelineAsync(sandbox, ForgedClock, "forge");

        // Assert: the worker timed the calls with the clock it took before any code ran.
        tokens.Distinct().Should().ContainSingle("the replaced clocks did not reach the time the worker reports");
        sandbox.ProcessIdsOf(ForgedClock, "forge").Should().ContainSingle();
    }

    [Fact]
    public async Task A_batchs_chunks_in_flight_run_side_by_side_in_two_processes()
    {
        // Arrange: single calls would never spread (any queue counts as short); a batch's chunks still do.
        var (options, _) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options with { QueueTarget = TimeSpan.FromHours(1) });
        await sandbox.RunAsync(Code, "slow", "[0]");

        // Act: inputs of 50 ms, so that two chunks are in flight at once for long enough for a second process to start.
        var tokens = new HashSet<string>();
        for (var round = 0; round < 10 && tokens.Count < 2; round++)
        {
            var results = await sandbox.RunBatchAsync(Code, "slow", [.. Enumerable.Repeat("[0.05]", 40)], TimeSpan.FromSeconds(60));
            foreach (var r in results) tokens.Add(JsonSerializer.Deserialize<string>(r.ResultJson!)!);
        }

        // Assert
        tokens.Should().HaveCount(2, "a chunk sent while another runs goes to (and starts) another process");
    }

    [Fact]
    public async Task A_crash_of_one_process_of_a_function_leaves_the_other_serving()
    {
        // Arrange
        var (options, marker) = await OptionsAsync(perFunction: 2);
        await using var sandbox = new PythonSandbox(options);
        (await ServeWavesAsync(sandbox, until: 2, waves: 30)).Should().HaveCount(2);
        var pids = sandbox.ProcessIdsOf(Code, "slow");
        pids.Should().HaveCount(2);
        var survivorToken = JsonSerializer.Deserialize<string>((await sandbox.RunAsync(Code, "slow", "[0]")).ResultJson);
        // Sequential calls go to the least busy process, the first of equals: learn which process answers, kill the other.
        var doomed = pids[1];

        // Act
        Process.GetProcessById(doomed).Kill(entireProcessTree: true);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ProcessTree.IsAlive(doomed) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var after = new List<SandboxResult>();
        for (var i = 0; i < 3; i++) after.Add(await sandbox.RunAsync(Code, "slow", "[0]"));

        // Assert
        ProcessTree.IsAlive(doomed).Should().BeFalse();
        after.Select(r => JsonSerializer.Deserialize<string>(r.ResultJson)).Should().OnlyContain(t => t == survivorToken,
            "the calls went to the process that was not killed, with its interpreter intact");
        // The sandbox learns of the death when the process's exit is reported, which may lag the kill on a loaded machine.
        deadline = DateTime.UtcNow.AddSeconds(30);
        while (sandbox.ProcessIdsOf(Code, "slow").Contains(doomed) && DateTime.UtcNow < deadline) await Task.Delay(50);
        sandbox.ProcessIdsOf(Code, "slow").Should().Contain(pids[0]).And.NotContain(doomed);
        ProcessTree.IsAlive(pids[0]).Should().BeTrue();
        ProcessTree.DenoDescendants(marker).Should().NotBeEmpty();
    }
}
