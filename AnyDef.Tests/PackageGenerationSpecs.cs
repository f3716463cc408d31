using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>A function declared with packages: the model is told which ones (with versions), and the store records them.</summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageGenerationSpecs : FakeModelSpecs
{
    public sealed record Name(string Value);

    private readonly TestWheels _wheels = new();
    private PackageIndexServer _index = null!;
    private TestWheels.Wheel _greet = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _greet = _wheels.Build($"anydef-greet-{_wheels.Suffix}", $"anydef_greet_{_wheels.Suffix}", "def hello(name):\n    return 'Hello, ' + name + '!'\n");
        _wheels.AddToLock(_greet);
        _index = await PackageIndexServer.StartAsync(_wheels.Folder);
    }

    public override async Task DisposeAsync()
    {
        await _index.DisposeAsync();
        await base.DisposeAsync();
    }

    private AnyDefOptions Options(string? store = null) => TestEnvironment.Options(Server) with
    {
        Packages = [_greet.Distribution],
        Sandbox = TestEnvironment.Sandbox with { PackageIndex = _index.Url, PackageLockFile = _wheels.LockFile },
        StoreDirectory = store,
    };

    private string GoodCode => $"import anydef_greet_{_wheels.Suffix} as g\n\ndef greet(value):\n    return g.hello(value)";

    [Fact]
    public async Task The_prompt_names_the_packages_and_their_versions_and_the_code_imports_them()
    {
        // Arrange
        Server.Then(FakeReply.Code(GoodCode));
        var greet = AnyDef.Function<Name, string>("greet", TestEnvironment.Unique("Greet someone"), Options());

        // Act
        var result = await greet.InvokeAsync(new Name("Ada"));

        // Assert
        result.Should().Be("Hello, Ada!");
        Server.RequestCount.Should().Be(1);
        Server.PromptOf(0).Should().Contain($"these packages only (nothing else can be installed): {_greet.Distribution} 1.0 (import anydef_greet_{_wheels.Suffix})")
            .And.NotContain("Standard library only");
        greet.Spec.Packages.Should().Equal(_greet.Distribution);
    }

    [Fact]
    public async Task An_import_of_an_undeclared_package_goes_back_to_the_model_as_a_check_failure()
    {
        // Arrange
        Server.Then(FakeReply.Code("import numpy\n\ndef greet(value):\n    return str(numpy.zeros(1))")).Then(FakeReply.Code(GoodCode));
        var greet = AnyDef.Function<Name, string>("greet", TestEnvironment.Unique("Greet someone"), Options());

        // Act
        var result = await greet.InvokeAsync(new Name("Bob"));

        // Assert
        result.Should().Be("Hello, Bob!");
        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("ModuleNotFoundError: No module named 'numpy'").And.Contain($"the packages {_greet.Distribution} 1.0");
    }

    [Fact]
    public async Task The_stored_file_records_the_packages_and_reading_it_fails_clearly_when_the_installed_set_differs()
    {
        // Arrange
        Server.Then(FakeReply.Code(GoodCode));
        var store = TestEnvironment.TempDir();
        var description = TestEnvironment.Unique("Greet someone");
        await AnyDef.Function<Name, string>("greet", description, Options(store)).InvokeAsync(new Name("Ada"));
        var file = Directory.GetFiles(store).Single();
        var newer = _wheels.Build(_greet.Distribution, _greet.Module, "def hello(name):\n    return 'Hi ' + name\n", version: "2.0");
        _wheels.AddToLock(newer);
        var upgradedLock = Path.Combine(_wheels.Folder, "upgraded-lock.json");
        File.Copy(_wheels.LockFile, upgradedLock);
        var upgraded = Options(store) with { Frozen = true };
        upgraded = upgraded with { Sandbox = upgraded.Sandbox with { PackageLockFile = upgradedLock } };

        // Act
        var run = () => AnyDef.Function<Name, string>("greet", description, upgraded).InvokeAsync(new Name("Ada"));

        // Assert
        (await File.ReadAllTextAsync(file)).Should().Contain($"# packages: {_greet.Distribution}==1.0 sha256:{_greet.Sha256}\n");
        var error = (await run.Should().ThrowAsync<PackageMismatchException>()).Which;
        error.Path.Should().Be(file);
        error.Recorded.Should().Be($"{_greet.Distribution}==1.0 sha256:{_greet.Sha256}");
        error.Installed.Should().Be($"{_greet.Distribution}==2.0 sha256:{newer.Sha256}");
        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public void Packages_join_the_spec_hash_only_when_declared()
    {
        var plain = FunctionSpec.FromSignature("def add(a: int, b: int) -> int", "Add two numbers.");

        plain.WithPackages([]).Hash.Should().Be(plain.Hash);
        plain.WithPackages(["regex"]).Hash.Should().NotBe(plain.Hash);
        plain.WithPackages(["Regex", "six"]).Hash.Should().Be(plain.WithPackages(["six", "regex"]).Hash);
    }
}
