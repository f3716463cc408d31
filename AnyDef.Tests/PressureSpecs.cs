using System.Diagnostics;
using AnyDefNet.Tests.Infrastructure;
using CliWrap;
using CliWrap.Buffered;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>The real sandbox under load: bounded processes, cancellations that cost no process, nothing left behind.</summary>
[Trait("Category", "Sandbox")]
public sealed class PressureSpecs
{
    [Fact]
    public async Task A_storm_of_new_functions_never_runs_more_processes_than_MaxProcesses_and_every_call_succeeds()
    {
        // The memory limit is only a marker that tells this sandbox's processes from every other test's.
        var options = TestEnvironment.Sandbox with { MaxProcesses = 4, SpareProcesses = 1, MemoryLimitMegabytes = 321 };
        await using var sandbox = new PythonSandbox(options);
        var most = 0;
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                most = Math.Max(most, ProcessTree.DenoDescendants("--max-old-space-size=321").Count);
                await Task.Delay(10);
            }
        });

        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(k => Task.Run(() =>
            sandbox.RunAsync($"def f(x):\n    return x * 100 + {k}\n", "f", "[7]", timeout: TimeSpan.FromMinutes(3)))));
        await stop.CancelAsync();
        await watcher;

        results.Select(r => r.ResultJson).Should().Equal(Enumerable.Range(0, 24).Select(k => (700 + k).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        most.Should().BeGreaterThan(0).And.BeLessThanOrEqualTo(4, "MaxProcesses bounds starting processes and spares too");
        sandbox.LiveProcesses.Should().BeLessThanOrEqualTo(4);
    }

    [Fact]
    public async Task A_call_that_waits_for_a_free_process_past_its_timeout_ends_as_a_timeout_naming_MaxProcesses()
    {
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { MaxProcesses = 1, SpareProcesses = 0 });
        const string nap = "def nap(s):\n    import time\n    time.sleep(s)\n    return s\n";
        var busy = sandbox.RunAsync(nap, "nap", "[8]", timeout: TimeSpan.FromSeconds(120));
        await HostReplySpecs.WaitUntilAsync(() => sandbox.ProcessIdOf(nap, "nap") is not null, seconds: 120);

        var error = (await sandbox.Invoking(s => s.RunAsync("def other():\n    return 1\n", "other", timeout: TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(120)))
            .Should().ThrowAsync<SandboxTimeoutException>()).Which;

        error.FunctionName.Should().Be("other");
        error.Message.Should().Contain("all 1 were busy").And.Contain("SandboxOptions.MaxProcesses");
        (await busy).ResultJson.Should().Be("8", "the busy process was neither taken nor ended");
    }

    [Fact]
    public async Task A_call_without_a_deadline_runs_past_what_the_watchdog_used_to_allow_and_can_still_be_cancelled()
    {
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0 });
        const string code = "def nap(s):\n    import time\n    time.sleep(s)\n    return s\n";

        (await sandbox.RunAsync(code, "nap", "[2]", timeout: Timeout.InfiniteTimeSpan)).ResultJson.Should().Be("2");

        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await sandbox.Invoking(s => s.RunAsync("def spin():\n    while True: pass\n", "spin", timeout: Timeout.InfiniteTimeSpan, cancellationToken: cts.Token))
            .Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Random_cancellations_under_load_keep_the_same_process_and_every_other_call_gets_its_result()
    {
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0 });
        const string code = "def work(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n";
        (await sandbox.RunAsync(code, "work", "[10]")).ResultJson.Should().Be("45");
        var pid = sandbox.ProcessIdOf(code, "work");
        var random = new Random(12);
        var cancelled = 0;

        var steady = Task.WhenAll(Enumerable.Range(0, 3).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                var n = 1000 + i;
                (await sandbox.RunAsync(code, "work", $"[{n}]")).ResultJson.Should().Be(((long)n * (n - 1) / 2).ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
        })));
        var cancelling = Task.WhenAll(Enumerable.Range(0, 2).Select(t => Task.Run(async () =>
        {
            for (var i = 0; i < 80; i++)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMicroseconds(random.Next(0, 2000)));
                try
                {
                    await sandbox.RunAsync(code, "work", "[20000]", cancellationToken: cts.Token);
                }
                catch (OperationCanceledException)
                {
                    Interlocked.Increment(ref cancelled);
                }
            }
        })));
        await Task.WhenAll(steady, cancelling);

        cancelled.Should().BeGreaterThan(0, "some calls were cancelled while they ran or waited");
        sandbox.ProcessIdOf(code, "work").Should().Be(pid, "a cancelled call costs no process");
        (await sandbox.RunAsync(code, "work", "[10]")).ResultJson.Should().Be("45");
    }

    [Fact]
    public async Task Socket_folders_left_by_an_application_killed_while_hosts_started_are_removed_by_the_next_start()
    {
        // Both applications get a temp folder of their own, so no other test's start can sweep it for them.
        var dir = TestEnvironment.TempDir();
        var temp = TestEnvironment.TempDir();
        var file = Path.Combine(dir, "one.py");
        await File.WriteAllTextAsync(file, "def one():\n    return 1\n");
        using var kill = new CancellationTokenSource();
        var child = Cli.Wrap("dotnet")
            .WithArguments([AnyDefCli.Dll, "exec", "--code", file, "--function", "one", "--args", "[]"])
            .WithEnvironmentVariables(e => e.Set("TMPDIR", temp))
            .WithValidation(CommandResultValidation.None)
            .ExecuteAsync(CancellationToken.None, kill.Token);
        var prefix = $"anydef-host-{child.ProcessId}-";
        string[] Left() => [.. Directory.EnumerateDirectories(temp, prefix + "*")];

        await HostReplySpecs.WaitUntilAsync(() => Left().Length > 0 || child.Task.IsCompleted, seconds: 120);
        Left().Should().NotBeEmpty("the application is caught while a host starts");
        Process.GetProcessById(child.ProcessId).Kill(); // SIGKILL: no handler of the application runs
        await child.Task.ContinueWith(_ => { }, TaskScheduler.Default);
        Left().Should().NotBeEmpty("nothing removed them");

        var next = await Cli.Wrap("dotnet")
            .WithArguments([AnyDefCli.Dll, "exec", "--code", file, "--function", "one", "--args", "[]"])
            .WithEnvironmentVariables(e => e.Set("TMPDIR", temp))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        next.ExitCode.Should().Be(0, next.StandardError);
        next.StandardOutput.Should().Be("1\n");

        Left().Should().BeEmpty("the next start removed the folders of the killed application");
    }
}
