using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>The anydef command with packages: <c>--packages</c> on exec, and a shippable folder from <c>packages fetch</c>.</summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageCliSpecs
{
    private static readonly string Unreachable = TestEnvironment.UnreachableUrl("pyodide/");
    private readonly TestWheels _wheels = new();
    private readonly string _dir = TestEnvironment.TempDir();

    private TestWheels.Wheel Util() =>
        _wheels.Build($"anydef-util-{_wheels.Suffix}", $"anydef_util_{_wheels.Suffix}", "def double(x):\n    return 2 * x\n");

    [Fact]
    public async Task Exec_with_packages_imports_them_from_a_wheel_folder()
    {
        // Arrange
        var util = Util();
        var code = Path.Combine(_dir, "run.py");
        await File.WriteAllTextAsync(code, $"from {util.Module} import double\n\ndef run(x):\n    return double(x)\n");

        // Act
        var result = await AnyDefCli.RunAsync(["exec", "--code", code, "--function", "run", "--args", "[21]",
            "--packages", util.Distribution, "--wheels", _wheels.Folder, "--package-index", Unreachable]);

        // Assert
        result.StandardError.Should().NotContain("error");
        result.ExitCode.Should().Be(0);
        result.StandardOutput.Should().Be("42\n");
    }

    [Fact]
    public async Task Packages_fetch_puts_what_the_stored_functions_need_into_one_folder()
    {
        // Arrange: a stored function whose header records a package from the wheel folder.
        var util = Util();
        var store = Path.Combine(_dir, "store");
        var spec = FunctionSpec.FromSignature("def run(x: int) -> int", TestEnvironment.Unique("Double x")).WithPackages([util.Distribution]);
        await new DirectoryCodeStore(store).WriteAsync(spec, $"from {util.Module} import double\n\ndef run(x):\n    return double(x)\n", "hand-written",
            $"{util.Distribution}==1.0 sha256:{util.Sha256}");
        var shipped = Path.Combine(_dir, "shipped");

        // Act
        var result = await AnyDefCli.RunAsync(["packages", "fetch", "--store", store, "--out", shipped, "--wheels", _wheels.Folder, "--package-index", Unreachable]);

        // Assert
        result.ExitCode.Should().Be(0, result.StandardError);
        result.StandardOutput.Should().Be($"{util.Distribution}\t1.0\t{util.FileName}\tsha256:{util.Sha256}\n");
        Directory.GetFiles(shipped).Select(Path.GetFileName).Should().Equal(util.FileName);
        (await File.ReadAllBytesAsync(Path.Combine(shipped, util.FileName))).Should().Equal(await File.ReadAllBytesAsync(util.Path));
    }

    [Fact]
    public async Task Packages_fetch_refuses_when_a_stored_function_recorded_other_versions()
    {
        // Arrange
        var util = Util();
        var store = Path.Combine(_dir, "store");
        var spec = FunctionSpec.FromSignature("def run(x: int) -> int", TestEnvironment.Unique("Double x")).WithPackages([util.Distribution]);
        var recorded = $"{util.Distribution}==0.9 sha256:{new string('a', 64)}";
        var path = await new DirectoryCodeStore(store).WriteAsync(spec, "def run(x):\n    return 2 * x\n", "hand-written", recorded);
        var shipped = Path.Combine(_dir, "shipped");

        // Act
        var result = await AnyDefCli.RunAsync(["packages", "fetch", "--store", store, "--out", shipped, "--wheels", _wheels.Folder, "--package-index", Unreachable]);

        // Assert
        result.ExitCode.Should().Be(5);
        result.StandardError.Should().Contain($"'{path}' was written for the packages '{recorded}'")
            .And.Contain($"'{util.Distribution}==1.0 sha256:{util.Sha256}'");
        Directory.Exists(shipped).Should().BeFalse();
    }

    [Fact]
    public async Task Exec_with_an_unknown_package_exits_5_naming_close_names()
    {
        // Arrange
        var util = Util();
        var code = Path.Combine(_dir, "run.py");
        await File.WriteAllTextAsync(code, "def run(x):\n    return x\n");

        // Act
        var result = await AnyDefCli.RunAsync(["exec", "--code", code, "--function", "run", "--args", "[1]",
            "--packages", $"anydef-utl-{_wheels.Suffix}", "--wheels", _wheels.Folder, "--package-index", Unreachable]);

        // Assert
        result.ExitCode.Should().Be(5);
        result.StandardError.Should().StartWith($"error: The package 'anydef-utl-{_wheels.Suffix}' is not in the Pyodide lock file")
            .And.Contain($"Did you mean '{util.Distribution}'");
    }
}
