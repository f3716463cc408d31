using System.Diagnostics;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Timeouts, crashes, memory and cancellation end as typed errors and leave the sandbox healthy.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class FaultSpecs(SandboxFixture fixture)
{
    private PythonSandbox Sandbox => fixture.Sandbox;

    private async Task ShouldStillWorkAsync()
    {
        (await Sandbox.RunAsync("def healthy(a, b):\n    return a + b\n", "healthy", "[40, 2]")).ResultJson.Should().Be("42");
    }

    [Theory]
    [InlineData("while True:\n        pass", "pure-Python loop, stopped by the interrupt")]
    [InlineData("import time\n    time.sleep(60)", "sleep, which the interrupt does not reach")]
    [InlineData("return sum(range(10**12))", "C loop")]
    [InlineData("while True:\n        try:\n            while True: pass\n        except BaseException:\n            pass", "code that swallows the interrupt")]
    [InlineData("import js\n    js.eval('while(true){}')", "JavaScript busy loop")]
    public async Task A_call_that_runs_too_long_times_out_and_the_next_call_of_the_same_function_works(string body, string because)
    {
        var code = $"def slow(x):\n    if x == 0:\n        return 'fast'\n    {body}\n";

        // Bounded only so that a regression fails instead of hanging: the call must end as a timeout, not by this bound.
        var error = (await Sandbox.Invoking(s => s.RunAsync(code, "slow", "[1]", timeout: TimeSpan.FromMilliseconds(500)).WaitAsync(TimeSpan.FromSeconds(120)))
            .Should().ThrowAsync<SandboxTimeoutException>(because)).Which;

        error.Timeout.Should().Be(TimeSpan.FromMilliseconds(500));
        error.FunctionName.Should().Be("slow");
        (await Sandbox.RunAsync(code, "slow", "[0]")).ResultJson.Should().Be("\"fast\"");
        await ShouldStillWorkAsync();
    }

    [Fact]
    public async Task Calls_queued_behind_a_call_that_brings_its_process_down_run_on_the_replacement()
    {
        const string code = "def maybe_sleep(x):\n    if x < 0:\n        import time\n        time.sleep(60)\n    return x\n";
        await Sandbox.RunAsync(code, "maybe_sleep", "[0]");
        var firstPid = Sandbox.ProcessIdOf(code, "maybe_sleep");

        var stuck = Sandbox.RunAsync(code, "maybe_sleep", "[-1]", timeout: TimeSpan.FromMilliseconds(300));
        var queued = Enumerable.Range(1, 5).Select(i => Sandbox.RunAsync(code, "maybe_sleep", $"[{i}]")).ToList();

        await stuck.Invoking(t => t).Should().ThrowAsync<SandboxTimeoutException>();
        (await Task.WhenAll(queued)).Select(r => r.ResultJson).Should().Equal("1", "2", "3", "4", "5");
        Sandbox.ProcessIdOf(code, "maybe_sleep").Should().NotBe(firstPid, "the stuck process was replaced");
    }

    [Fact]
    public async Task More_functions_than_processes_are_served_by_evicting_the_least_recently_used_idle_one()
    {
        await using var small = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcesses = 2, SpareProcesses = 0 });
        var codes = Enumerable.Range(0, 4).Select(k => $"def f(x):\n    return x * 10 + {k}\n").ToList();

        var results = await Task.WhenAll(Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
        {
            var seen = new List<string>();
            for (var round = 0; round < 3; round++)
            {
                for (var k = 0; k < codes.Count; k++) seen.Add((await small.RunAsync(codes[k], "f", $"[{round}]")).ResultJson);
            }

            return seen;
        })));

        var expected = Enumerable.Range(0, 3).SelectMany(round => Enumerable.Range(0, 4).Select(k => (round * 10 + k).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        results.Should().AllSatisfy(seen => seen.Should().Equal(expected));
        codes.Count(c => small.ProcessIdOf(c, "f") is not null).Should().BeLessThanOrEqualTo(2, "idle processes beyond the limit are ended");
        small.LiveProcesses.Should().BeLessThanOrEqualTo(2, "MaxProcesses bounds the processes");
    }

    [Fact]
    public async Task A_timeout_is_an_AnyDef_error_distinct_from_cancellation()
    {
        var run = () => Sandbox.RunAsync("def spin():\n    while True: pass\n", "spin", timeout: TimeSpan.FromMilliseconds(200));

        (await run.Should().ThrowAsync<AnyDefException>()).Which.Should().NotBeAssignableTo<OperationCanceledException>();
    }

    [Fact]
    public async Task Cancelling_a_call_ends_it_promptly_and_leaves_the_sandbox_healthy()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));

        // Without a timeout of its own the call can only end by the cancellation (the bound only keeps a regression from hanging).
        await Sandbox.Invoking(s => s.RunAsync("def forever():\n    while True: pass\n", "forever", timeout: Timeout.InfiniteTimeSpan, cancellationToken: cts.Token).WaitAsync(TimeSpan.FromSeconds(120)))
            .Should().ThrowAsync<OperationCanceledException>("cancellation ends the call without waiting for it");
        (await Sandbox.RunAsync("def forever():\n    while True: pass\n", "forever", timeout: TimeSpan.FromMilliseconds(200))
            .ContinueWith(t => t.Exception?.InnerException?.GetType())).Should().Be<SandboxTimeoutException>();
        await ShouldStillWorkAsync();
    }

    [Fact]
    public async Task A_host_killed_from_outside_fails_only_the_calls_in_flight_and_the_next_calls_work()
    {
        const string code = "def nap(x):\n    import time\n    time.sleep(x)\n    return x\n";
        await Sandbox.RunAsync(code, "nap", "[0]");
        var inFlight = Enumerable.Range(0, 4).Select(_ => Sandbox.RunAsync(code, "nap", "[2]")).ToList();
        await Task.Delay(300);

        var pid = Sandbox.ProcessIdOf(code, "nap");
        pid.Should().NotBeNull();
        Process.GetProcessById(pid!.Value).Kill();

        foreach (var call in inFlight)
        {
            await call.Invoking(c => c).Should().ThrowAsync<SandboxCrashedException>();
        }

        (await Sandbox.RunAsync(code, "nap", "[0]")).ResultJson.Should().Be("0");
        await ShouldStillWorkAsync();
    }

    [Fact]
    public async Task Running_out_of_memory_is_a_typed_error_and_the_process_is_recycled()
    {
        const string code = "def hog(n):\n    a = []\n    while True:\n        a.append(bytearray(10**6))\n";

        await Sandbox.Invoking(s => s.RunAsync(code, "hog", "[1]", timeout: TimeSpan.FromSeconds(20)))
            .Should().ThrowAsync<SandboxMemoryException>();

        await ShouldStillWorkAsync();
    }

    [Fact]
    public async Task JavaScript_allocations_past_the_budget_end_as_a_memory_error_and_the_next_call_works()
    {
        const string code = """
            def js_hog():
                import js
                keep = []
                for i in range(100):
                    block = js.Uint8Array.new(64 * 1024 * 1024)
                    block.fill(1)
                    keep.append(block)
                return len(keep)
            """;
        await using var small = new PythonSandbox(TestEnvironment.Sandbox with { MemoryLimitMegabytes = 128, SpareProcesses = 0 });

        await small.Invoking(s => s.RunAsync(code, "js_hog", timeout: TimeSpan.FromSeconds(30))).Should().ThrowAsync<SandboxMemoryException>();

        (await small.RunAsync("def fine():\n    return 'fine'\n", "fine")).ResultJson.Should().Be("\"fine\"");
    }

    [SkippableFact]
    public async Task Where_the_os_allows_each_host_runs_in_its_own_memory_cgroup()
    {
        // The parent the library uses: this process's v1 memory group, or its v2 group when the memory controller is
        // delegated to the groups below it. Where CI found it writable (ANYDEF_EXPECT_MEMORY_CGROUP=1) it may not skip.
        var own = OwnMemoryCgroup();
        var usable = own is { } found && CanCreateCgroupIn(found.Dir);
        if (!usable) Environment.GetEnvironmentVariable("ANYDEF_EXPECT_MEMORY_CGROUP").Should().NotBe("1", "this machine's memory cgroup was found writable");
        Skip.IfNot(usable, own is null
            ? "no memory cgroup to create groups in (no v1 memory controller, no v2 group with memory delegated): the host's own memory checks are the only ones"
            : $"the memory cgroup {own.Value.Dir} is not writable here: the host's own memory checks are the only ones");
        var (_, v2) = own!.Value;
        const string code = "def where():\n    return 1\n";
        await Sandbox.RunAsync(code, "where");
        var pid = Sandbox.ProcessIdOf(code, "where")!.Value;

        var line = File.ReadAllLines($"/proc/{pid}/cgroup").Single(l => v2 ? l.StartsWith("0::", StringComparison.Ordinal) : l.Split(':', 3)[1].Split(',').Contains("memory"));
        var path = line.Split(':', 3)[2];

        path.Should().EndWith($"/anydef-{Environment.ProcessId}-{pid}", "the host was moved into a group of its own");
        var dir = (v2 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory") + path;
        var limit = File.ReadAllText(Path.Combine(dir, v2 ? "memory.max" : "memory.limit_in_bytes")).Trim();
        long.Parse(limit, System.Globalization.CultureInfo.InvariantCulture).Should().Be((512L * 2 + 256) * 1024 * 1024, "the kernel's limit is the interpreter's budget and the host's allowance");
    }

    private static (string Dir, bool V2)? OwnMemoryCgroup()
    {
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length != 3) continue;
            if (parts[1].Split(',').Contains("memory") && Directory.Exists("/sys/fs/cgroup/memory" + parts[2])) return ("/sys/fs/cgroup/memory" + parts[2], false);
            var unified = "/sys/fs/cgroup" + parts[2];
            if (parts[0] == "0" && parts[1].Length == 0 && File.Exists(Path.Combine(unified, "cgroup.subtree_control")) &&
                File.ReadAllText(Path.Combine(unified, "cgroup.subtree_control")).Split(' ', '\n').Contains("memory"))
            {
                return (unified, true);
            }
        }

        return null;
    }

    private static bool CanCreateCgroupIn(string parent)
    {
        var probe = Path.Combine(parent, "anydef-probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(probe);
            Directory.Delete(probe);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    [Fact]
    public async Task A_huge_allocation_fails_inside_python()
    {
        var error = (await Sandbox.Invoking(s => s.RunAsync("def big():\n    return len(bytearray(10**10))\n", "big"))
            .Should().ThrowAsync<AnyDefException>()).Which;

        error.Should().Match<AnyDefException>(e => e is SandboxMemoryException || (e is PythonExecutionException && ((PythonExecutionException)e).PythonType == "OverflowError"));
        await ShouldStillWorkAsync();
    }
}
