using FluentAssertions;

namespace AnyDefNet.Tests;

public sealed class OptionsSpecs
{
    public sealed record N(int X);

    [Fact]
    public void Changing_a_copy_of_the_options_leaves_the_original_as_it_was()
    {
        var original = new AnyDefOptions { Model = "m1", StoreDirectory = "store" };

        var modified = original with { Model = "m2", Timeout = TimeSpan.FromSeconds(5) };

        original.Model.Should().Be("m1");
        original.Timeout.Should().Be(TimeSpan.FromSeconds(30));
        original.Should().BeEquivalentTo(modified, o => o.Excluding(x => x.Model).Excluding(x => x.Timeout));
    }

    [Fact]
    public void Invalid_options_are_reported_all_at_once_when_a_function_is_declared()
    {
        var options = new AnyDefOptions { Timeout = TimeSpan.Zero, MaxAttempts = 0, ModelRetries = -1 };

        var declare = () => AnyDef.Function<N, int>("f", "x", options);

        declare.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("Timeout must be positive").And.Contain("MaxAttempts must be at least 1").And.Contain("ModelRetries must not be negative");
    }

    [Fact]
    public void Invalid_sandbox_options_are_reported_all_at_once_when_a_sandbox_is_made()
    {
        var options = SandboxOptions.Default with { MaxProcesses = 0, SpareProcesses = -1, MemoryLimitMegabytes = 10 };

        var make = () => new PythonSandbox(options);

        make.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("MaxProcesses").And.Contain("SpareProcesses").And.Contain("MemoryLimitMegabytes");
    }

    [Fact]
    public void Processes_per_function_and_the_transport_are_validated_with_the_other_sandbox_options()
    {
        var options = SandboxOptions.Default with { MaxProcessesPerFunction = 0, Transport = (SandboxTransport)7, MaxProcesses = 0 };

        var make = () => new PythonSandbox(options);

        make.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("MaxProcessesPerFunction must be at least 1 (was 0)")
            .And.Contain("Transport must be one of Automatic, UnixSocket, Tcp (was 7)")
            .And.Contain("MaxProcesses must be at least 1");
        SandboxOptions.Default.MaxProcessesPerFunction.Should().Be(Math.Min(Environment.ProcessorCount, 4));
        SandboxOptions.Default.EffectiveTransport.Should().Be(OperatingSystem.IsWindows() ? SandboxTransport.Tcp : SandboxTransport.UnixSocket);
    }

    [Fact]
    public void Equal_sandbox_options_share_one_sandbox_and_different_ones_do_not()
    {
        var a = PythonSandbox.GetShared(SandboxOptions.Default with { MaxProcesses = 3 });
        var b = PythonSandbox.GetShared(SandboxOptions.Default with { MaxProcesses = 3 });
        var c = PythonSandbox.GetShared(SandboxOptions.Default with { MaxProcesses = 4 });

        a.Should().BeSameAs(b);
        a.Should().NotBeSameAs(c);
    }
}
