using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Calls that travel together (pipelined, run as one group by the host) keep everything a single call has.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class BridgeSpecs(SandboxFixture fixture)
{
    private PythonSandbox Sandbox => fixture.Sandbox;

    [Theory]
    [InlineData("n = 0\ndef f(x):\n    global n\n    n += 1\n    return n\n", "a global counter")]
    [InlineData("seen = []\ndef f(x):\n    seen.append(x)\n    return len(seen)\n", "a module-level list")]
    [InlineData("def f(x, acc=[]):\n    acc.append(x)\n    return len(acc)\n", "a mutable default argument")]
    [InlineData("def f(x):\n    f.calls = getattr(f, 'calls', 0) + 1\n    return f.calls\n", "an attribute on the function")]
    [InlineData("class C:\n    n = 0\ndef f(x):\n    C.n += 1\n    return C.n\n", "a class attribute")]
    [InlineData("def f(x):\n    globals()['n'] = globals().get('n', 0) + 1\n    return globals()['n']\n", "globals()")]
    public async Task Module_level_state_of_one_call_never_reaches_the_next_even_when_calls_are_pipelined(string code, string because)
    {
        var sequential = new List<string>();
        for (var i = 0; i < 3; i++) sequential.Add((await Sandbox.RunAsync(code, "f", $"[{i}]")).ResultJson);
        var pipelined = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Sandbox.RunAsync(code, "f", $"[{i}]")));

        sequential.Should().AllBe("1", because);
        pipelined.Select(r => r.ResultJson).Should().AllBe("1", because);
    }

    [Fact]
    public async Task Module_level_output_is_printed_by_every_call()
    {
        const string code = "print('loading')\ndef f(x):\n    return x\n";

        var outputs = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Sandbox.RunAsync(code, "f", $"[{i}]")));

        outputs.Select(r => r.Output.Trim()).Should().AllBe("loading");
        outputs.Select(r => r.ResultJson).Should().Equal(Enumerable.Range(0, 8).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task Pipelined_calls_each_keep_their_own_timeout_cancellation_and_result()
    {
        const string code = "def work(kind, x):\n    if kind == 'spin':\n        while True:\n            pass\n    if kind == 'raise':\n        raise ValueError(str(x))\n    return x * 2\n";
        await Sandbox.RunAsync(code, "work", "[\"ok\", 0]");
        var pid = Sandbox.ProcessIdOf(code, "work");
        using var cancelled = new CancellationTokenSource();

        // One call that must time out, queued calls behind it (one of them cancelled while it waits), and one that raises.
        var spin = Sandbox.RunAsync(code, "work", "[\"spin\", 0]", timeout: TimeSpan.FromMilliseconds(400));
        var calls = Enumerable.Range(1, 40).Select(i => i switch
        {
            7 => Sandbox.RunAsync(code, "work", "[\"spin\", 7]", cancellationToken: cancelled.Token),
            13 => Sandbox.RunAsync(code, "work", "[\"raise\", 13]"),
            _ => Sandbox.RunAsync(code, "work", $"[\"ok\", {i}]"),
        }).ToList();
        cancelled.CancelAfter(TimeSpan.FromMilliseconds(100));

        await spin.Invoking(t => t).Should().ThrowAsync<SandboxTimeoutException>();
        await calls[6].Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        (await calls[12].Invoking(t => t).Should().ThrowAsync<PythonExecutionException>()).Which.PythonType.Should().Be("ValueError");
        foreach (var i in Enumerable.Range(1, 40).Where(i => i is not 7 and not 13))
        {
            (await calls[i - 1]).ResultJson.Should().Be((i * 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        Sandbox.ProcessIdOf(code, "work").Should().Be(pid, "an interrupted call leaves its process serving the others");
    }

    [Fact]
    public async Task A_call_that_ends_its_process_mid_group_fails_alone_and_the_calls_around_it_succeed()
    {
        // One process per function: every call goes to the process that ends, in the order sent, so each outcome is exact.
        const string code = "def maybe_exit(x):\n    if x < 0:\n        import os\n        os._exit(1)\n    return x\n";
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcessesPerFunction = 1, SpareProcesses = 0 });
        await sandbox.RunAsync(code, "maybe_exit", "[0]");
        var firstPid = sandbox.ProcessIdOf(code, "maybe_exit");

        var before = Enumerable.Range(1, 10).Select(i => sandbox.RunAsync(code, "maybe_exit", $"[{i}]")).ToList();
        var crash = sandbox.RunAsync(code, "maybe_exit", "[-1]");
        var after = Enumerable.Range(11, 10).Select(i => sandbox.RunAsync(code, "maybe_exit", $"[{i}]")).ToList();

        await crash.Invoking(t => t).Should().ThrowAsync<SandboxCrashedException>();
        (await Task.WhenAll(after)).Select(r => r.ResultJson).Should().Equal(Enumerable.Range(11, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        // The calls that finished before the crash keep their results: the process hands each one over (or spills it) as it ends.
        (await Task.WhenAll(before)).Select(r => r.ResultJson).Should().Equal(Enumerable.Range(1, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            "no call that finished before the crash is lost");
        sandbox.ProcessIdOf(code, "maybe_exit").Should().NotBe(firstPid, "the process that ended was replaced");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(140_000)]
    [InlineData(400_000)]
    public async Task Arguments_results_and_output_of_any_size_and_script_round_trip_intact_alone_and_pipelined(int length)
    {
        // Characters of one, two, three and four UTF-8 bytes (the last a surrogate pair in .NET and JavaScript): the
        // larger sizes are past what the host and its worker exchange through shared memory, which then falls back.
        const string code = "def echo(s, n):\n    print(s[:n])\n    return s + '\u2713'\n";
        var text = string.Concat(Enumerable.Repeat("aé€😀", length / 5 + 1))[..length];
        if (char.IsHighSurrogate(text[^1])) text = text[..^1];
        var args = System.Text.Json.JsonSerializer.Serialize(new object[] { text, 1000 });

        var alone = await Sandbox.RunAsync(code, "echo", args);
        var pipelined = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Sandbox.RunAsync(code, "echo", args)));

        foreach (var r in pipelined.Prepend(alone))
        {
            System.Text.Json.JsonSerializer.Deserialize<string>(r.ResultJson).Should().Be(text + "\u2713");
            r.Output.Should().Be(string.Concat(text.EnumerateRunes().Take(1000)) + "\n", "Python counts code points");
        }
    }

    [Fact]
    public async Task Code_that_lies_in_wait_for_the_shared_memory_on_its_way_into_a_text_encoder_never_gets_it()
    {
        // Python reaches JavaScript: it can replace the text encoder the worker once used to write into the memory it
        // shares with the host, and write garbage over whatever it is handed. The worker took its built-ins before any
        // untrusted code ran, so the replacement never sees that memory (and the host checks it anyway).
        const string code = """
            def corrupt(x):
                import js
                if x:
                    js.eval("const e = TextEncoder.prototype.encodeInto; globalThis.__caught = 0; TextEncoder.prototype.encodeInto = function (s, d) { const r = e.call(this, s, d); " +
                        "if (d.buffer instanceof SharedArrayBuffer && d.buffer.byteLength < 1000000) { globalThis.__caught++; new Uint8Array(d.buffer, 0, 4096).fill(0x7f); } return r; }")
                return [x, js.eval("globalThis.__caught ?? 0")]
            """;
        (await Sandbox.RunAsync(code, "corrupt", "[0]")).ResultJson.Should().Be("[0, 0]");
        var pid = Sandbox.ProcessIdOf(code, "corrupt");

        (await Sandbox.RunAsync(code, "corrupt", "[1]", timeout: TimeSpan.FromSeconds(20))).ResultJson.Should().Be("[1, 0]");

        (await Sandbox.RunAsync(code, "corrupt", "[0]")).ResultJson.Should().Be("[0, 0]", "nothing shared was ever handed to the replacement");
        Sandbox.ProcessIdOf(code, "corrupt").Should().Be(pid);
    }
}
