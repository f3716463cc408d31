using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>A deployed application whose cache folder cannot be written (a read-only home) is told what to change.</summary>
public sealed class DeploymentSpecs
{
    [Fact]
    public async Task A_cache_folder_that_cannot_be_written_fails_with_a_message_naming_the_setting_that_points_elsewhere()
    {
        // Arrange: a cache folder beneath a plain file can never be created, whoever runs the test.
        var blocker = Path.GetTempFileName();
        try
        {
            await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { CacheDirectory = Path.Combine(blocker, "cache"), SpareProcesses = 0 });

            // Act
            var run = () => sandbox.RunAsync("def f():\n    return 1\n", "f");

            // Assert
            var error = (await run.Should().ThrowAsync<SandboxUnavailableException>()).Which;
            error.Message.Should().Contain("SandboxOptions.CacheDirectory").And.Contain("ANYDEF_CACHE_DIR").And.Contain("dotnet publish -r");
            File.ReadAllText(blocker).Should().BeEmpty();
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [SkippableFact]
    public async Task A_temporary_folder_that_cannot_be_written_is_a_sandbox_unavailable_error_naming_tmpdir()
    {
        // Arrange: TMPDIR beneath a plain file can never hold the socket's folder, whoever runs the test (as a read-only mount would).
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the Unix socket transport is the default only on Linux and macOS");
        var dir = TestEnvironment.TempDir();
        var blocker = Path.Combine(dir, "not-a-folder");
        await File.WriteAllTextAsync(blocker, "");
        var code = Path.Combine(dir, "f.py");
        await File.WriteAllTextAsync(code, "def f():\n    return 1\n");

        // Act
        var result = await AnyDefCli.RunAsync(["exec", "--code", code, "--function", "f", "--args", "[]"], new Dictionary<string, string?> { ["TMPDIR"] = Path.Combine(blocker, "tmp") });

        // Assert
        result.ExitCode.Should().NotBe(0);
        result.StandardError.Should().Contain("TMPDIR").And.Contain("tmpfs").And.Contain("SandboxOptions.Transport")
            .And.NotContain("Unhandled").And.NotContain("   at ");
    }

    [Fact]
    public async Task The_sandbox_works_after_a_call_failed_for_want_of_a_writable_cache_folder()
    {
        var blocker = Path.GetTempFileName();
        try
        {
            await using var broken = new PythonSandbox(TestEnvironment.Sandbox with { CacheDirectory = Path.Combine(blocker, "cache"), SpareProcesses = 0 });
            await broken.Invoking(s => s.RunAsync("def f():\n    return 1\n", "f")).Should().ThrowAsync<SandboxUnavailableException>();

            var result = await PythonSandbox.GetShared(TestEnvironment.Sandbox).RunAsync("def f():\n    return 41 + 1\n", "f");

            result.ResultJson.Should().Be("42");
        }
        finally
        {
            File.Delete(blocker);
        }
    }
}
