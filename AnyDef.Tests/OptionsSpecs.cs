using AnyDefNet.Tests.Infrastructure;
using CliWrap;
using CliWrap.Buffered;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

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

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.001)]
    [InlineData(86_401.0)]
    [InlineData(10_000_000.0)]
    public void A_generation_lock_expiry_outside_its_range_is_refused_with_the_range(double seconds)
    {
        var options = new AnyDefOptions { GenerationLockExpiry = TimeSpan.FromSeconds(seconds) };

        var declare = () => AnyDef.Function<N, int>("f", "x", options);

        declare.Should().Throw<ArgumentException>()
            .Which.Message.Should().Contain("GenerationLockExpiry must be between 00:00:01 and 1.00:00:00");
    }

    [Fact]
    public void A_fleet_waiter_with_no_deadline_on_the_model_or_the_call_waits_without_a_limit()
    {
        var infinite = new AnyDefOptions { ModelTimeout = Timeout.InfiniteTimeSpan };
        var huge = new AnyDefOptions { ModelTimeout = Internal.Timeouts.Max, Timeout = Internal.Timeouts.Max, MaxAttempts = 1000 };
        var finite = new AnyDefOptions { ModelTimeout = TimeSpan.FromSeconds(10), Timeout = TimeSpan.FromSeconds(5), MaxAttempts = 2, GenerationLockExpiry = TimeSpan.FromSeconds(3) };

        Internal.FleetCache.Patience(infinite).Should().Be(Timeout.InfiniteTimeSpan);
        Internal.FleetCache.Patience(new AnyDefOptions { Timeout = Timeout.InfiniteTimeSpan }).Should().Be(Timeout.InfiniteTimeSpan);
        Internal.FleetCache.Patience(huge).Should().Be(Timeout.InfiniteTimeSpan);
        Internal.FleetCache.Patience(finite).Should().Be(TimeSpan.FromSeconds(36));
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

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 3)]
    [InlineData(4, 4)]
    [InlineData(16, 4)]
    public async Task Processes_per_function_default_to_the_number_of_cores_and_at_most_four(int cores, int expected)
    {
        // Arrange: a program of its own that prints the default, run with the number of cores the runtime reports set
        var dir = TestEnvironment.TempDir();
        var program = CSharpCompilation.Create("PrintDefault",
            [CSharpSyntaxTree.ParseText("System.Console.Write(AnyDefNet.SandboxOptions.Default.MaxProcessesPerFunction);")],
            [.. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator).Select(p => MetadataReference.CreateFromFile(p))],
            new CSharpCompilationOptions(OutputKind.ConsoleApplication));
        program.Emit(Path.Combine(dir, "PrintDefault.dll")).Success.Should().BeTrue();
        File.Copy(typeof(SandboxOptions).Assembly.Location, Path.Combine(dir, "AnyDef.dll"));
        await File.WriteAllTextAsync(Path.Combine(dir, "PrintDefault.runtimeconfig.json"),
            """{"runtimeOptions":{"framework":{"name":"Microsoft.NETCore.App","version":"VERSION"}}}""".Replace("VERSION", Environment.Version.ToString(), StringComparison.Ordinal));

        // Act
        var result = await CliWrap.Cli.Wrap("dotnet").WithArguments([Path.Combine(dir, "PrintDefault.dll")])
            .WithEnvironmentVariables(e => e.Set("DOTNET_PROCESSOR_COUNT", cores.ToString(System.Globalization.CultureInfo.InvariantCulture)))
            .WithValidation(CommandResultValidation.None).ExecuteBufferedAsync();

        // Assert
        result.StandardOutput.Should().Be(expected.ToString(System.Globalization.CultureInfo.InvariantCulture), result.StandardError);
    }
}
