using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>A batch gives one outcome per input, in order, whatever an input does to its process.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class BatchSpecs(SandboxFixture fixture)
{
    private PythonSandbox Sandbox => fixture.Sandbox;

    // One function that behaves by its input: most inputs double, a few are hostile or unlucky.
    private const string Code = """
        def act(kind, x):
            if kind == "ok":
                return x * 2
            if kind == "raise":
                raise ValueError(f"bad {x}")
            if kind == "spin":
                while True:
                    pass
            if kind == "sleep":
                import time
                time.sleep(60)
            if kind == "exit":
                import os
                os._exit(0)
            if kind == "deno_exit":
                import js
                js.Deno.exit(0)
            if kind == "close":
                import js
                js.close()
            if kind == "hog":
                a = []
                while True:
                    a.append(bytearray(10**6))
            if kind == "huge":
                return "x" * (2 * 1024 * 1024)
            if kind == "slow":
                import time
                t = time.time()
                while time.time() - t < x:
                    pass
                return x
        """;

    private static string In(string kind, double x) => $"[\"{kind}\", {x.ToString(System.Globalization.CultureInfo.InvariantCulture)}]";

    [Fact]
    public async Task Every_input_of_a_batch_gets_its_own_outcome_in_order_whatever_it_does_to_its_process()
    {
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxResultBytes = 1024 * 1024, MemoryLimitMegabytes = 128, SpareProcesses = 1 });
        string[] kinds = ["ok", "raise", "ok", "spin", "ok", "sleep", "ok", "exit", "ok", "hog", "ok", "huge", "ok", "deno_exit", "ok", "close", "ok"];
        var inputs = kinds.Select((k, i) => In(k, i)).ToList();

        var results = await sandbox.RunBatchAsync(Code, "act", inputs, timeout: TimeSpan.FromSeconds(3));

        results.Should().HaveCount(kinds.Length);
        for (var i = 0; i < kinds.Length; i++)
        {
            var r = results[i];
            var because = $"input {i} is '{kinds[i]}'";
            switch (kinds[i])
            {
                case "ok":
                    r.Error.Should().BeNull(because);
                    r.ResultJson.Should().Be((i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture), because);
                    break;
                case "raise":
                    r.Error.Should().BeOfType<PythonExecutionException>(because).Which.PythonMessage.Should().Be($"bad {i}");
                    break;
                case "spin" or "sleep":
                    r.Error.Should().BeOfType<SandboxTimeoutException>(because);
                    break;
                case "exit" or "deno_exit" or "close":
                    r.Error.Should().BeOfType<SandboxCrashedException>(because);
                    break;
                case "hog":
                    r.Error.Should().BeOfType<SandboxMemoryException>(because);
                    break;
                case "huge":
                    r.Error.Should().BeOfType<ResultTooLargeException>(because).Which.LimitBytes.Should().Be(1024 * 1024);
                    break;
            }
        }

        (await sandbox.RunAsync(Code, "act", In("ok", 21))).ResultJson.Should().Be("42", "the sandbox is healthy afterwards");
    }

    [Fact]
    public async Task The_timeout_applies_to_each_input_not_to_the_whole_batch()
    {
        var inputs = Enumerable.Range(0, 8).Select(_ => In("slow", 0.3)).ToList();

        var results = await Sandbox.RunBatchAsync(Code, "act", inputs, timeout: TimeSpan.FromSeconds(1.5));

        results.Should().HaveCount(8).And.AllSatisfy(r => r.ResultJson.Should().Be("0.3", "each input takes 0.3 s, well inside its own 1.5 s, though the batch takes 2.4 s"));
    }

    [Fact]
    public async Task No_input_is_run_twice_when_its_neighbour_brings_the_process_down()
    {
        // Each run of an input appends to a log kept in a JavaScript global of the process; a process's log dies with
        // it, so the inputs are counted through their results: each returns how many times it has run in this process.
        const string code = """
            def once(kind, x):
                import js
                seen = getattr(js.globalThis, "anydef_seen", None)
                if seen is None:
                    js.eval("globalThis.anydef_seen = new Map()")
                    seen = js.globalThis.anydef_seen
                seen.set(x, (seen.get(x) or 0) + 1)
                if kind == "exit":
                    import os
                    os._exit(0)
                return [x, seen.get(x), int(js.eval("globalThis.anydef_seen.size"))]
            """;
        var inputs = Enumerable.Range(0, 200).Select(i => In(i == 120 ? "exit" : "ok", i)).ToList();
        // One process at a time, so that the process after the crash is a fresh one (a replica would have run other inputs).
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcessesPerFunction = 1 });

        var results = await sandbox.RunBatchAsync(code, "once", inputs, timeout: TimeSpan.FromSeconds(10));

        results.Should().HaveCount(200);
        results[120].Error.Should().BeOfType<SandboxCrashedException>();
        var ok = results.Where((_, i) => i != 120).Select(r => r.ResultJson!).ToList();
        ok.Should().OnlyContain(json => json.Split(',')[1] == " 1" || json.Split(',')[1] == "1", "every input ran once in its process");
        ok.Select(json => int.Parse(json.Trim('[', ']').Split(',')[0], System.Globalization.CultureInfo.InvariantCulture))
            .Should().Equal(Enumerable.Range(0, 200).Where(i => i != 120), "order is kept");
        var sizes = results.Skip(121).Select(r => int.Parse(r.ResultJson!.Trim('[', ']').Split(',')[2], System.Globalization.CultureInfo.InvariantCulture));
        sizes.Order().Should().Equal(Enumerable.Range(1, 79), "the inputs after the crash ran in a fresh process, none of them run before");
    }

    [Fact]
    public async Task A_streamed_batch_yields_results_before_the_input_is_exhausted()
    {
        var gate = new TaskCompletionSource();
        // If results only came once the input was exhausted, the gate would never open: the bound turns that hang into a failure.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        async IAsyncEnumerable<string> Inputs()
        {
            yield return In("ok", 1);
            yield return In("ok", 2);
            await gate.Task.WaitAsync(bound.Token);
            yield return In("ok", 3);
        }

        var seen = new List<string>();
        await foreach (var r in Sandbox.StreamBatchAsync(Code, "act", Inputs()).WithCancellation(bound.Token))
        {
            seen.Add(r.ResultJson!);
            if (seen.Count == 2) gate.SetResult();
        }

        seen.Should().Equal("2", "4", "6");
    }

    [Fact]
    public async Task A_cancelled_stream_yields_every_input_that_finished_before_the_cancellation_then_throws()
    {
        // Sent together, the quick inputs finish within a millisecond of each other, so their outcomes are still inside
        // the worker (waiting to be handed over with the next ones) while the input after them sleeps past the cancellation.
        string[] inputs = [In("ok", 1), In("ok", 2), In("ok", 3), In("sleep", 0), In("ok", 5)];
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcessesPerFunction = 1 });
        using var cancel = new CancellationTokenSource();
        var seen = new List<string>();

        var run = async () =>
        {
            await foreach (var r in sandbox.StreamBatchAsync(Code, "act", inputs.ToAsyncEnumerable(), TimeSpan.FromSeconds(120), cancel.Token))
            {
                seen.Add(r.ResultJson ?? r.Error!.GetType().Name);
            }
        };
        cancel.CancelAfter(TimeSpan.FromSeconds(4));

        await run.Should().ThrowAsync<OperationCanceledException>();
        seen.Should().Equal(["2", "4", "6"], "the inputs before the sleeping one finished before the cancellation, and keep their results");
    }

    [Fact]
    public async Task A_result_that_contains_the_old_memory_marker_is_plain_data_and_the_process_is_kept()
    {
        const string code = "def echo(d):\n    return d\n";
        const string marker = "[{\"__anydef_memory__\": true}]";
        await Sandbox.RunAsync(code, "echo", marker);
        var pid = Sandbox.ProcessIdOf(code, "echo");

        for (var i = 0; i < 3; i++) (await Sandbox.RunAsync(code, "echo", marker)).ResultJson.Should().Be("{\"__anydef_memory__\": true}");
        (await Sandbox.RunBatchAsync(code, "echo", [marker, marker])).Should().HaveCount(2).And.AllSatisfy(r => r.Error.Should().BeNull());

        Sandbox.ProcessIdOf(code, "echo").Should().Be(pid, "returning data never recycles the process");
    }

    [Fact]
    public async Task A_result_over_the_limit_is_a_typed_error_naming_the_limit_and_the_process_survives()
    {
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxResultBytes = 4096, SpareProcesses = 0 });
        const string code = "def text(n):\n    return 'é' * n\n";
        await sandbox.RunAsync(code, "text", "[1]");
        var pid = sandbox.ProcessIdOf(code, "text");

        var error = (await sandbox.Invoking(s => s.RunAsync(code, "text", "[3000]")).Should().ThrowAsync<ResultTooLargeException>()).Which;

        error.LimitBytes.Should().Be(4096);
        error.Message.Should().Contain("4096").And.Contain(nameof(SandboxOptions.MaxResultBytes));
        (await sandbox.RunAsync(code, "text", "[2000]")).ResultJson.Should().HaveLength(2002, "2,000 two-byte characters fit in 4,096 bytes");
        sandbox.ProcessIdOf(code, "text").Should().Be(pid, "a too-large result does not cost the process");
    }

    [Theory]
    [InlineData("import js; js.Deno.exit(0)")]
    [InlineData("import js; js.close()")]
    [InlineData("import os; os._exit(3)")]
    public async Task Code_that_ends_its_own_process_is_reported_at_once_as_a_crash(string body)
    {
        var code = $"def quit(x):\n    if x:\n        {body}\n    return x\n";

        // A crash noticed only when the call's time ran out would end as a SandboxTimeoutException.
        await Sandbox.Invoking(s => s.RunAsync(code, "quit", "[1]", timeout: TimeSpan.FromSeconds(60))).Should().ThrowAsync<SandboxCrashedException>("the crash is reported when it happens");
        (await Sandbox.RunAsync(code, "quit", "[0]")).ResultJson.Should().Be("0");
    }

    [Theory]
    [InlineData("js.Deno.exit(0)")]
    [InlineData("js.close()")]
    public async Task Code_that_catches_the_refusal_to_end_its_process_still_crashes_that_input_and_nothing_after_it_runs_there(string end)
    {
        // The refusal reaches Python as an exception it can swallow and go on from: the input is still the crash, and
        // the inputs after it run once each, in a fresh process.
        var code = $$"""
            def go(kind, x):
                import js
                if getattr(js.globalThis, "anydef_ran", None) is None:
                    js.eval("globalThis.anydef_ran = 0")
                js.eval("globalThis.anydef_ran += 1")
                if kind == "end":
                    try:
                        {{end}}
                    except BaseException:
                        pass
                return [x * 2, int(js.eval("globalThis.anydef_ran"))]
            """;
        string[] kinds = ["ok", "ok", "end", "ok", "ok"];

        var results = await Sandbox.RunBatchAsync(code, "go", kinds.Select((k, i) => In(k, i)).ToList(), timeout: TimeSpan.FromSeconds(10));

        results.Should().HaveCount(5);
        results[2].Error.Should().BeOfType<SandboxCrashedException>("the input that tried to end its process is the crash, even though it swallowed the refusal");
        results.Where((_, i) => i != 2).Select(r => r.Error).Should().AllSatisfy(e => e.Should().BeNull());
        results[3].ResultJson.Should().Be("[6, 1]", "the input after the crash ran first in a fresh process");
        results[4].ResultJson.Should().Be("[8, 2]");
        await Sandbox.Invoking(s => s.RunAsync(code, "go", In("end", 1), timeout: TimeSpan.FromSeconds(10))).Should().ThrowAsync<SandboxCrashedException>();
    }

    [Fact]
    public void A_result_limit_out_of_range_is_refused_naming_the_setting()
    {
        var make = () => new PythonSandbox(TestEnvironment.Sandbox with { MaxResultBytes = 10 });

        make.Should().Throw<ArgumentException>().WithMessage("*MaxResultBytes*");
    }
}

/// <summary>The typed function's streaming batch: one outcome per input, typed values and typed errors.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class FunctionBatchSpecs : FakeModelSpecs
{
    public sealed record N(int X);

    [Fact]
    public async Task A_declared_function_streams_one_typed_outcome_per_input_and_survives_one_that_ends_its_process()
    {
        Server.Always(FakeReply.Code("def recip(x):\n    if x == 7:\n        import os\n        os._exit(0)\n    return 1 / x"));
        var recip = AnyDef.Function<N, double>("recip", TestEnvironment.Unique("Reciprocal"), TestEnvironment.Options(Server));
        async IAsyncEnumerable<N> Inputs()
        {
            foreach (var x in new[] { 1, 0, 2, 7, 4 })
            {
                await Task.Yield();
                yield return new N(x);
            }
        }

        var outcomes = new List<BatchOutcome<double>>();
        await foreach (var o in recip.StreamAsync(Inputs())) outcomes.Add(o);

        outcomes.Select(o => o.Succeeded).Should().Equal(true, false, true, false, true);
        outcomes.Where(o => o.Succeeded).Select(o => o.Value).Should().Equal(1.0, 0.5, 0.25);
        outcomes[1].Error.Should().BeOfType<PythonExecutionException>().Which.PythonType.Should().Be("ZeroDivisionError");
        outcomes[3].Error.Should().BeOfType<SandboxCrashedException>();
    }
}
