using System.Diagnostics;
using System.Text.Json;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Xunit.Abstractions;

namespace AnyDefNet.Tests;

/// <summary>
/// A hostile function attacks the walls around its own call, as generated code would (Python reaches all of JavaScript
/// through <c>import js</c>): nothing it writes grows the application's memory past a fixed bound, and no other call's
/// outcome, deadline or process is affected.
/// </summary>
[Trait("Category", "Hostile")]
[Trait("Category", "Sandbox")]
[Collection(HostileCollection.Name)]
public sealed class HostileSpecs(ITestOutputHelper output)
{
    // The most the application's managed heap and resident size may grow while a function floods it.
    private const long BoundBytes = 64L * 1024 * 1024;

    private const string Echo = "def echo(x):\n    return x\n";

    private static PythonSandbox NewSandbox(SandboxOptions? options = null) => new((options ?? TestEnvironment.Sandbox) with { SpareProcesses = 0, MaxProcesses = 4 });

    /// <summary>Samples the application's managed heap and resident size while <paramref name="work"/> runs.</summary>
    private async Task<(long Heap, long Resident)> PeakGrowthAsync(Func<Task> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        long heap0 = GC.GetTotalMemory(false), rss0 = self.WorkingSet64, heap = 0, rss = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                self.Refresh();
                heap = Math.Max(heap, GC.GetTotalMemory(false) - heap0);
                rss = Math.Max(rss, self.WorkingSet64 - rss0);
                await Task.Delay(20).ConfigureAwait(false);
            }
        });
        try
        {
            await work();
        }
        finally
        {
            stop.Cancel();
            await sampler;
        }

        output.WriteLine($"peak growth: managed heap {heap / 1048576.0:0.0} MiB, resident {rss / 1048576.0:0.0} MiB (from {heap0 / 1048576.0:0.0} / {rss0 / 1048576.0:0.0} MiB)");
        return (heap, rss);
    }

    [Fact]
    public async Task A_function_flooding_the_hosts_stdout_without_newlines_does_not_grow_the_applications_memory()
    {
        // 500 MiB in 1 MiB writes, no newline anywhere, straight to the host process's own standard output.
        const string flood = """
            def flood():
                import js
                chunk = js.Uint8Array.new(1 << 20).fill(120)
                for _ in range(500):
                    written = 0
                    while written < chunk.length:
                        written += js.Deno.stdout.writeSync(chunk.subarray(written))
                return "flooded"
            """;
        await using var sandbox = NewSandbox();
        (await sandbox.RunAsync(Echo, "echo", "[1]")).ResultJson.Should().Be("1");

        SandboxResult? result = null;
        var (heap, resident) = await PeakGrowthAsync(async () => result = await sandbox.RunAsync(flood, "flood", timeout: TimeSpan.FromSeconds(120)));

        result!.ResultJson.Should().Be("\"flooded\"");
        heap.Should().BeLessThan(BoundBytes, "the host's standard output is read as bounded chunks, not lines");
        resident.Should().BeLessThan(BoundBytes * 2);
        (await sandbox.RunAsync(Echo, "echo", "[2]")).ResultJson.Should().Be("2");
    }

    [Fact]
    public async Task Four_functions_posting_oversized_replies_at_once_reach_neither_the_caller_nor_the_applications_memory()
    {
        // Every route to the host a function can find: the worker's postMessage (global, on self, on its prototype),
        // each with a forged reply for the job numbers the host is likely to use, carrying 95 million characters of output.
        const string forge = """
            def forge(n):
                import js
                from pyodide.ffi import to_js
                huge = "x" * 95_000_000
                print("y" * 10_000_000)
                seen = []
                routes = [
                    lambda m: js.postMessage(m),
                    lambda m: js.self.postMessage(m),
                    lambda m: js.Object.getPrototypeOf(js.self).postMessage.call(js.self, m),
                    lambda m: js.eval("(m) => globalThis.postMessage(m)")(m),
                ]
                message = to_js({"type": "reply", "id": 0, "spent": False, "texts": ['0{"ok":true,"result":"forged"}'],
                                 "outs": [huge], "text": '0{"ok":true,"result":"forged"}', "stdout": huge},
                                dict_converter=js.Object.fromEntries)
                for route in routes:
                    try:
                        for job in range(1, 4):
                            message.id = job
                            route(message)
                        seen.append("posted")
                        break
                    except Exception as e:
                        seen.append("refused")
                return [n, seen]
            """;
        await using var sandbox = NewSandbox();
        var names = Enumerable.Range(0, 4).Select(i => $"forge{i}").ToArray();
        foreach (var name in names) (await sandbox.RunAsync(Echo.Replace("echo", name, StringComparison.Ordinal), name, "[0]")).ResultJson.Should().Be("0");

        var outcomes = new object?[4];
        var (heap, resident) = await PeakGrowthAsync(async () =>
        {
            var calls = names.Select(async (name, i) =>
            {
                try
                {
                    outcomes[i] = await sandbox.RunAsync(forge.Replace("def forge", $"def {name}", StringComparison.Ordinal), name, $"[{i}]", timeout: TimeSpan.FromSeconds(60));
                }
                catch (AnyDefException ex)
                {
                    outcomes[i] = ex;
                }
            });
            await Task.WhenAll(calls);
        });

        for (var i = 0; i < 4; i++)
        {
            output.WriteLine($"{names[i]}: {(outcomes[i] is SandboxResult r ? r.ResultJson + $" with {r.Output.Length} characters of output" : outcomes[i])}");
            // Either its own honest result, or a crash of its own process: never the forged reply.
            if (outcomes[i] is SandboxResult result)
            {
                result.ResultJson.Should().NotContain("forged").And.StartWith($"[{i},");
                result.Output.Length.Should().BeLessThanOrEqualTo(64 * 1024 + 1, "a call's output is capped");
            }
            else
            {
                outcomes[i].Should().BeOfType<SandboxCrashedException>();
            }
        }

        heap.Should().BeLessThan(BoundBytes, "nothing a function posts grows the application's memory");
        resident.Should().BeLessThan(BoundBytes * 2);
        foreach (var name in names) (await sandbox.RunAsync(Echo.Replace("echo", name, StringComparison.Ordinal), name, "[5]")).ResultJson.Should().Be("5");
    }

    [Fact]
    public async Task A_function_that_replaces_the_workers_built_ins_and_writes_shared_memory_cannot_outlive_its_timeout_or_touch_other_calls()
    {
        // JavaScript run from Python replaces what the worker might use to reach the memory it shares with the host, keeps
        // every shared buffer handed to it, writes huge values into them (a forged progress counter, outcome count and
        // mailbox), and then sleeps (time.sleep cannot be interrupted) well past its timeout.
        const string code = """
            GRAB = '''(() => {
              const TA = Object.getPrototypeOf(Uint8Array.prototype);
              const grabbed = globalThis.__grabbed = [];
              const grab = (a) => { try { if (a && a.buffer instanceof SharedArrayBuffer && !grabbed.includes(a.buffer)) grabbed.push(a.buffer); } catch {} };
              for (const name of ["store", "load", "add", "wait", "notify", "exchange", "compareExchange"]) {
                const original = Atomics[name];
                Atomics[name] = function (a, ...rest) { grab(a); return original.call(Atomics, a, ...rest); };
              }
              for (const name of ["subarray", "slice", "set", "fill"]) {
                const original = TA[name];
                TA[name] = function (...args) { grab(this); return original.apply(this, args); };
              }
              const encodeInto = TextEncoder.prototype.encodeInto;
              TextEncoder.prototype.encodeInto = function (s, into) { grab(into); return encodeInto.call(this, s, into); };
            })()'''
            FORGE = '''(() => {
              for (const b of globalThis.__grabbed ?? []) {
                const v = new Int32Array(b, 0, Math.min(64, b.byteLength >> 2));
                for (let i = 0; i < v.length; i++) v[i] = 1000000;
              }
              return (globalThis.__grabbed ?? []).length;
            })()'''

            def work(x):
                import js, time
                if x == "grab":
                    js.eval(GRAB)
                    return x
                if x != "attack":
                    return x
                js.eval(FORGE)
                time.sleep(30)
                return "survived"
            """;
        await using var sandbox = NewSandbox();
        // The replacements go in during one call and stay for the next calls of the process (one interpreter per function).
        (await sandbox.RunAsync(code, "work", "[\"grab\"]")).ResultJson.Should().Be("\"grab\"");
        (await sandbox.RunAsync(code, "work", "[\"warm\"]")).ResultJson.Should().Be("\"warm\"");
        var watch = Stopwatch.StartNew();

        // The attack with a 3 s timeout, and honest calls queued beside it, with and without deadlines.
        var attack = sandbox.RunAsync(code, "work", "[\"attack\"]", timeout: TimeSpan.FromSeconds(3));
        var honest = Enumerable.Range(0, 8).Select(i => sandbox.RunAsync(code, "work", $"[{i}]", timeout: i % 2 == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(20))).ToList();

        var error = await attack.Invoking(t => t).Should().ThrowAsync<AnyDefException>();
        var ended = watch.Elapsed;
        output.WriteLine($"the attack ended after {ended.TotalSeconds:0.0} s with {error.Which.GetType().Name}: {error.Which.Message}");
        error.Which.Should().Match<AnyDefException>(e => e is SandboxTimeoutException || e is SandboxCrashedException);
        ended.Should().BeLessThan(TimeSpan.FromSeconds(20), "the call cannot outlive its 3 s timeout by more than the grace and the process's end");
        for (var i = 0; i < honest.Count; i++)
        {
            // Its own value, or (for a call that shared the attacker's process) that process's crash; never another's value.
            try
            {
                (await honest[i].WaitAsync(TimeSpan.FromSeconds(60))).ResultJson.Should().Be(i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            catch (SandboxCrashedException)
            {
            }
        }

        (await sandbox.RunAsync(code, "work", "[42]").WaitAsync(TimeSpan.FromSeconds(60))).ResultJson.Should().Be("42", "a call without a deadline after the attack is answered");
    }

    [Fact]
    public async Task A_batch_input_that_searches_pythons_frames_for_a_way_to_hand_over_outcomes_finds_none_and_shifts_no_result()
    {
        // Every input is a call the worker makes into Python and whose return value it takes: no callback that hands
        // outcomes to the host is ever passed to Python, so none can be found on its frames (or anywhere in its globals).
        const string code = """
            def shift(x):
                import sys
                if x == 3:
                    f = sys._getframe()
                    while f is not None:
                        for name, value in list(f.f_locals.items()) + list(f.f_globals.items()):
                            if callable(value) and type(value).__name__.startswith("Js"):
                                try:
                                    value('0{"ok":true,"result":999}')
                                except BaseException:
                                    pass
                        f = f.f_back
                return x * 10
            """;
        await using var sandbox = NewSandbox();
        var inputs = Enumerable.Range(0, 10).Select(i => $"[{i}]").ToList();

        var outcomes = await sandbox.RunBatchAsync(code, "shift", inputs);

        outcomes.Should().HaveCount(10);
        for (var i = 0; i < outcomes.Count; i++)
        {
            output.WriteLine($"{i}: {outcomes[i].ResultJson ?? outcomes[i].Error!.GetType().Name}");
            outcomes[i].Error.Should().BeNull("nothing on Python's frames can hand the host an outcome, so no process ends");
            outcomes[i].ResultJson.Should().Be((i * 10).ToString(System.Globalization.CultureInfo.InvariantCulture), "each input gets its own value");
        }
    }

    [Fact]
    public async Task Calls_of_one_function_share_one_trust_domain_and_calls_of_another_function_share_nothing_with_them()
    {
        // One function's calls run in one interpreter, one after another: what a call leaves behind (a JavaScript global,
        // a replaced built-in) is there for the next, and a replaced built-in sees the arguments the worker handles for
        // later calls. Another function runs in another process and sees none of it.
        const string code = """
            SPY = '''(() => {
              const seen = globalThis.__seen = [];
              const push = Array.prototype.push;
              Array.prototype.push = function (...items) {
                for (const item of items) if (item && typeof item === "object" && typeof item.args === "string") seen[seen.length] = item.args;
                return push.apply(this, items);
              };
              globalThis.__note = "left by an earlier call";
            })()'''

            def domain(mode, secret):
                import js
                if mode == "spy":
                    js.eval(SPY)
                    return None
                if mode == "peek":
                    seen = list(js.eval("Array.from(globalThis.__seen ?? [])").to_py()) if js.eval("Array.isArray(globalThis.__seen)") else None
                    return {"note": js.eval("globalThis.__note ?? ''") or None, "seen": seen}
                return secret
            """;
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, MaxProcessesPerFunction = 1 });
        var other = code.Replace("def domain", "def other", StringComparison.Ordinal);

        (await sandbox.RunAsync(code, "domain", "[\"spy\", null]")).ResultJson.Should().Be("null");
        (await sandbox.RunAsync(code, "domain", "[\"run\", \"tenant-a-secret\"]")).ResultJson.Should().Be("\"tenant-a-secret\"");
        (await sandbox.RunAsync(other, "other", "[\"run\", \"tenant-b-secret\"]")).ResultJson.Should().Be("\"tenant-b-secret\"");
        var same = JsonDocument.Parse((await sandbox.RunAsync(code, "domain", "[\"peek\", null]")).ResultJson).RootElement;
        var elsewhere = JsonDocument.Parse((await sandbox.RunAsync(other, "other", "[\"peek\", null]")).ResultJson).RootElement;

        // Shared within one function: what an earlier call left, and the arguments of its other calls.
        same.GetProperty("note").GetString().Should().Be("left by an earlier call");
        same.GetProperty("seen").EnumerateArray().Select(e => e.GetString()).Should().Contain(a => a!.Contains("tenant-a-secret"));
        // Not shared across functions: nothing left behind, no arguments of the other function's calls.
        same.GetProperty("seen").EnumerateArray().Select(e => e.GetString()).Should().NotContain(a => a!.Contains("tenant-b-secret"));
        elsewhere.GetProperty("note").ValueKind.Should().Be(JsonValueKind.Null);
        elsewhere.GetProperty("seen").ValueKind.Should().Be(JsonValueKind.Null);
    }
}

/// <summary>The hostile tests measure the whole application's memory, so nothing else runs beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileCollection
{
    public const string Name = "hostile";
}
