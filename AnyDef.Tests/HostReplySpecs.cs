using System.Diagnostics;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// Whatever a host sends, each call gets exactly one typed outcome and a broken host is replaced. The host here is a
/// test-only script (swapped in through <see cref="SandboxOptions.HostDirectory"/>) that misbehaves on command.
/// </summary>
[Trait("Category", "Sandbox")]
public sealed class HostReplySpecs : IAsyncLifetime
{
    private const string Code = "# the test host runs no Python";
    private readonly string _hostDirectory = MisbehavingHost.Copy();
    private PythonSandbox _sandbox = null!;

    public Task InitializeAsync()
    {
        _sandbox = new PythonSandbox(MisbehavingHost.Options(_hostDirectory));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _sandbox.DisposeAsync();

    private Task<SandboxResult> Run(string function, string command, TimeSpan? timeout = null, int size = 0) =>
        _sandbox.RunAsync(Code, function, $"[\"{command}\", {size}]", timeout: timeout ?? TimeSpan.FromSeconds(10));

    [Theory]
    [InlineData("missing_error", "without an \"error\"")]
    [InlineData("reply_number", "\"reply\" is a number")]
    [InlineData("payload_not_json", "payload that is not JSON")]
    [InlineData("payload_not_object", "payload that is an array, not an object")]
    [InlineData("payload_without_ok", "could not be understood")]
    [InlineData("garbage_line", "not JSON")]
    [InlineData("no_id", "without a numeric \"id\"")]
    [InlineData("nested_id", "\"exiting\" is an object")]
    public async Task A_reply_that_cannot_be_understood_is_a_crash_naming_the_problem_and_the_host_is_replaced(string command, string named)
    {
        var function = "f_" + command;
        (await Run(function, "echo")).ResultJson.Should().Be("[\"echo\",0]");
        var brokenPid = _sandbox.ProcessIdOf(Code, function)!.Value;

        var error = (await Run(function, command).WaitAsync(TimeSpan.FromSeconds(60))
            .Invoking(t => t).Should().ThrowAsync<SandboxCrashedException>()).Which;

        error.Message.Should().Contain(named);
        (await Run(function, "echo")).ResultJson.Should().Be("[\"echo\",0]");
        _sandbox.ProcessIdOf(Code, function).Should().NotBe(brokenPid, "the host that sent it was replaced");
        await WaitUntilAsync(() => !ProcessTree.IsAlive(brokenPid));
    }

    [Fact]
    public async Task A_second_reply_for_the_same_request_is_ignored_the_first_one_wins_and_the_host_keeps_serving()
    {
        (await Run("twice", "echo")).ResultJson.Should().Be("[\"echo\",0]");
        var pid = _sandbox.ProcessIdOf(Code, "twice")!.Value;

        var results = new List<string>();
        for (var i = 0; i < 3; i++) results.Add((await Run("twice", "duplicate_reply").WaitAsync(TimeSpan.FromSeconds(60))).ResultJson);

        results.Should().Equal("\"first\"", "\"first\"", "\"first\"");
        (await Run("twice", "echo")).ResultJson.Should().Be("[\"echo\",0]", "the late copy was not given to the next request");
        _sandbox.ProcessIdOf(Code, "twice").Should().Be(pid, "a duplicate is dropped, not a reason to end the host");
    }

    [Fact]
    public async Task Replies_for_unknown_ids_are_not_progress_and_the_stuck_call_ends_as_a_crash()
    {
        var error = (await Run("chatty", "unknown_ids", TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60))
            .Invoking(t => t).Should().ThrowAsync<SandboxCrashedException>()).Which;

        error.Message.Should().Contain("stopped answering");
        (await Run("chatty", "echo")).ResultJson.Should().Be("[\"echo\",0]");
    }

    [Fact]
    public async Task A_reply_line_past_the_result_limit_is_a_typed_error_naming_the_limit_and_the_host_is_replaced()
    {
        (await Run("endless", "echo")).ResultJson.Should().Be("[\"echo\",0]");
        var pid = _sandbox.ProcessIdOf(Code, "endless")!.Value;

        var error = (await Run("endless", "never_ending_line", TimeSpan.FromSeconds(30)).WaitAsync(TimeSpan.FromSeconds(60))
            .Invoking(t => t).Should().ThrowAsync<SandboxCrashedException>()).Which;

        error.Message.Should().Contain(nameof(SandboxOptions.MaxResultBytes)).And.Contain("1048576");
        await WaitUntilAsync(() => !ProcessTree.IsAlive(pid));
        (await Run("endless", "echo")).ResultJson.Should().Be("[\"echo\",0]");
    }

    [Fact]
    public async Task A_line_that_starts_and_never_ends_is_ended_by_the_watchdog()
    {
        var error = (await Run("half", "silent_partial_line", TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(60))
            .Invoking(t => t).Should().ThrowAsync<SandboxCrashedException>()).Which;

        error.Message.Should().Contain("stopped answering");
    }

    [Fact]
    public async Task A_large_result_still_arriving_counts_as_progress()
    {
        // About 3 s to arrive, against a watchdog limit of 1 s + grace + 1 s without progress.
        var result = await Run("trickle", "slow_large_result", TimeSpan.FromSeconds(1), size: 30 * 64 * 1024);

        result.ResultJson.Length.Should().Be(30 * 64 * 1024 + 2);
    }

    [Fact]
    public async Task A_spare_that_failed_to_start_is_retried_before_a_call_is_failed()
    {
        var directory = MisbehavingHost.Copy();
        await using var sandbox = new PythonSandbox(MisbehavingHost.Options(directory) with { SpareProcesses = 1 });
        MisbehavingHost.Mark(directory, "FAIL_START");
        await sandbox.Invoking(s => s.WarmUpAsync()).Should().ThrowAsync<SandboxUnavailableException>("the spare failed to start");
        MisbehavingHost.Mark(directory, "");

        var result = await sandbox.RunAsync(Code, "after_failed_spare", "[\"echo\", 1]");

        result.ResultJson.Should().Be("[\"echo\",1]");
    }

    [Fact]
    public async Task Disposing_ends_processes_that_are_still_starting_at_once()
    {
        var directory = MisbehavingHost.Copy();
        var sandbox = new PythonSandbox(MisbehavingHost.Options(directory) with { SpareProcesses = 2 });
        MisbehavingHost.Mark(directory, "SLOW_START");
        var warmUp = sandbox.WarmUpAsync();
        await WaitUntilAsync(() => ProcessTree.DenoDescendants(directory).Count == 2);

        var watch = Stopwatch.StartNew();
        await sandbox.DisposeAsync();

        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(20), "starting processes are ended, not waited for (they would take 60 s)");
        await WaitUntilAsync(() => ProcessTree.DenoDescendants(directory).Count == 0);
        await warmUp.Invoking(t => t).Should().ThrowAsync<Exception>();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(long.MaxValue)]
    [InlineData(int.MaxValue)]
    public async Task A_timeout_outside_its_range_is_refused_naming_the_range(long milliseconds)
    {
        var timeout = milliseconds == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromMilliseconds(milliseconds);

        var error = (await _sandbox.Invoking(s => s.RunAsync(Code, "edge", "[\"echo\", 0]", timeout: timeout))
            .Should().ThrowAsync<ArgumentOutOfRangeException>()).Which;

        error.ParamName.Should().Be("timeout");
        error.Message.Should().Contain("InfiniteTimeSpan").And.Contain("24.8 days");
    }

    [Fact]
    public async Task The_longest_allowed_timeout_and_no_timeout_both_work()
    {
        (await Run("longest", "echo", TimeSpan.FromMilliseconds(int.MaxValue - 1))).ResultJson.Should().Be("[\"echo\",0]");
        (await Run("longest", "echo", Timeout.InfiniteTimeSpan)).ResultJson.Should().Be("[\"echo\",0]");
    }

    [Fact]
    public void Options_with_a_timeout_outside_its_range_are_refused_naming_the_setting()
    {
        var declare = () => AnyDef.Function<OptionsSpecs.N, int>("f", "x", new AnyDefOptions { Timeout = TimeSpan.MaxValue, ModelTimeout = TimeSpan.FromDays(-1) });
        var make = () => new PythonSandbox(SandboxOptions.Default with { InterruptGrace = TimeSpan.MaxValue, StartTimeout = TimeSpan.MaxValue });

        declare.Should().Throw<ArgumentOutOfRangeException>().Which.Message.Should().Contain("Timeout must be positive").And.Contain("ModelTimeout");
        make.Should().Throw<ArgumentOutOfRangeException>().Which.Message.Should().Contain("InterruptGrace").And.Contain("StartTimeout");
    }

    internal static async Task WaitUntilAsync(Func<bool> condition, int seconds = 30)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            deadline.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(seconds), "the condition should hold soon");
            await Task.Delay(20);
        }
    }
}

/// <summary>The test-only host script that misbehaves on command, copied to a private folder per use.</summary>
internal static class MisbehavingHost
{
    public static string Copy()
    {
        var dir = TestEnvironment.TempDir();
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Hosts", "misbehaving")))
        {
            File.Copy(file, Path.Combine(dir, Path.GetFileName(file)));
        }

        return dir;
    }

    /// <summary>Makes the next starts fail (FAIL_START), hang (SLOW_START) or behave (empty).</summary>
    public static void Mark(string directory, string marker) => File.WriteAllText(Path.Combine(directory, "worker.ts"), "// " + marker + "\n");

    public static SandboxOptions Options(string directory) => TestEnvironment.Sandbox with
    {
        HostDirectory = directory,
        UseSnapshot = false,
        SpareProcesses = 0,
        MaxProcesses = 16,
        MaxResultBytes = 1024 * 1024,
        UseCgroup = false,
        StartTimeout = TimeSpan.FromSeconds(60),
    };
}
