using AnyDefNet.Tests.Infrastructure;
using CliWrap;
using CliWrap.Buffered;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// The cold path: a one-shot program starts its one sandbox process before it has loaded the rest of itself, and the
/// call takes that process; nothing starts a second one.
/// </summary>
public sealed class ColdStartSpecs
{
    private readonly string _dir = TestEnvironment.TempDir();

    [Fact]
    public async Task A_one_shot_exec_starts_exactly_one_sandbox_process()
    {
        // Arrange
        var code = Path.Combine(_dir, "add.py");
        await File.WriteAllTextAsync(code, "def add(a, b):\n    return a + b\n");

        // Act: every host makes its private socket folder in the temp folder; the kernel reports each folder made in
        // the command's own temp folder (inotify), however briefly it lives, so no host can slip between two looks.
        var temp = TestEnvironment.TempDir();
        var seen = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var watcher = new FileSystemWatcher(temp) { Filter = "anydef-host-*" };
        watcher.Created += (_, e) => seen.Enqueue(e.Name!);
        watcher.EnableRaisingEvents = true;
        var result = await CliWrap.Cli.Wrap("dotnet")
            .WithArguments([AnyDefCli.Dll, "exec", "--code", code, "--function", "add", "--args", "[20, 22]"])
            .WithEnvironmentVariables(e => e.Set("TMPDIR", temp))
            .WithValidation(CommandResultValidation.None)
            .ExecuteBufferedAsync();
        await HostReplySpecs.WaitUntilAsync(() => !seen.IsEmpty);

        // Assert
        result.ExitCode.Should().Be(0, result.StandardError);
        result.StandardOutput.Should().Be("42\n");
        seen.Should().HaveCount(1, "the process started early is the one the call runs in");
    }

    [Fact]
    public async Task A_prestarted_process_serves_the_first_call_and_no_spare_follows_it()
    {
        // Arrange
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, MaxProcesses = 4 });

        // Act
        sandbox.Prestart();
        sandbox.LiveProcesses.Should().Be(1, "the process starts at once, before the runtime is even located");
        var result = await sandbox.RunAsync("def add(a, b):\n    return a + b\n", "add", "[1, 2]");

        // Assert
        result.ResultJson.Should().Be("3");
        // A spare takes its slot when the load of the call's function ends, before the call returns: a spare would count here.
        sandbox.LiveProcesses.Should().Be(1, "the call took the prestarted process, and no spare is started after it");
    }

    [Fact]
    public async Task Prestart_starts_nothing_in_a_sandbox_that_already_has_a_process()
    {
        // Arrange
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, MaxProcesses = 4 });
        await sandbox.RunAsync("def one():\n    return 1\n", "one");

        // Act
        sandbox.Prestart();

        // Assert: Prestart takes the slot of the process it starts before it returns, so a second process would count here.
        sandbox.LiveProcesses.Should().Be(1);
    }
}
