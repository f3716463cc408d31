using System.Security.Cryptography;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// Packages are fetched by the library from a package index (here a real one on 127.0.0.1 serving wheels the test
/// built), verified against the lock file, cached, and only read by the sandbox, which never has network.
/// </summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class PackageSpecs : IAsyncLifetime
{
    private static readonly string Unreachable = TestEnvironment.UnreachableUrl("pyodide/");
    private readonly TestWheels _wheels = new();
    private readonly List<PythonSandbox> _sandboxes = [];
    private PackageIndexServer _index = null!;
    private TestWheels.Wheel _base = null!;
    private TestWheels.Wheel _greet = null!;

    public async Task InitializeAsync()
    {
        (_base, _greet) = _wheels.BuildGreeting();
        _index = await PackageIndexServer.StartAsync(_wheels.Folder);
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _sandboxes) await s.DisposeAsync();
        await _index.DisposeAsync();
    }

    private PythonSandbox Sandbox(SandboxOptions options)
    {
        var sandbox = new PythonSandbox(options);
        _sandboxes.Add(sandbox);
        return sandbox;
    }

    private SandboxOptions WithIndex(params string[] packages) =>
        TestEnvironment.Sandbox with { Packages = PackageSet.From(packages), PackageIndex = _index.Url, PackageLockFile = _wheels.LockFile };

    private string GreetCode => $"import anydef_greet_{_wheels.Suffix} as g\n\ndef greet(name):\n    return g.hello(name)\n";

    private static string PackageCache => Path.Combine(RuntimeLocation.CacheRoot(TestEnvironment.Sandbox), "packages");

    /// <summary>Every file of this test's packages in the cache, finished or not.</summary>
    private string[] CachedFiles() => Directory.Exists(PackageCache)
        ? [.. Directory.EnumerateFiles(PackageCache, "*", SearchOption.AllDirectories).Where(f => f.Contains(_wheels.Suffix, StringComparison.Ordinal))]
        : [];

    [Fact]
    public async Task A_declared_package_and_its_dependency_are_fetched_verified_cached_and_imported_in_the_sandbox()
    {
        // Act
        var result = await Sandbox(WithIndex(_greet.Distribution)).RunAsync(GreetCode, "greet", "[\"Ada\"]");
        var again = await Sandbox(WithIndex(_greet.Distribution)).RunAsync(GreetCode, "greet", "[\"Bob\"]");

        // Assert
        result.ResultJson.Should().Be("\"Hello, Ada!\"");
        again.ResultJson.Should().Be("\"Hello, Bob!\"");
        _index.Requests.Should().BeEquivalentTo([_base.FileName, _greet.FileName], "each file is fetched once; the second sandbox reads the cache");
        CachedFiles().Select(Path.GetFileName).Should().BeEquivalentTo([_base.FileName, _greet.FileName]);
        CachedFiles().Should().AllSatisfy(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))).ToLowerInvariant()
            .Should().Be(Path.GetFileName(Path.GetDirectoryName(f))));
    }

    [Fact]
    public async Task A_wrong_hash_is_an_error_naming_the_file_and_nothing_is_kept()
    {
        // Arrange
        _wheels.AddToLock(_base, sha256: new string('0', 64));

        // Act
        var run = () => Sandbox(WithIndex(_greet.Distribution)).RunAsync(GreetCode, "greet", "[\"Ada\"]");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageHashMismatchException>()).Which;
        error.FileName.Should().Be(_base.FileName);
        error.ActualSha256.Should().Be(_base.Sha256);
        error.Message.Should().Contain(_base.FileName).And.Contain("not kept");
        CachedFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task A_file_missing_from_the_index_is_an_error_naming_it_and_nothing_is_kept()
    {
        // Arrange
        File.Delete(_greet.Path);

        // Act
        var run = () => Sandbox(WithIndex(_greet.Distribution)).RunAsync(GreetCode, "greet", "[\"Ada\"]");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageDownloadException>()).Which;
        error.Url.Should().Be(_index.Url + _greet.FileName);
        error.Message.Should().Contain($"has no file '{_greet.FileName}'").And.Contain(nameof(SandboxOptions.PackageIndex));
        CachedFiles().Where(f => f.Contains(_greet.FileName, StringComparison.Ordinal)).Should().BeEmpty();
    }

    [Fact]
    public async Task An_unreachable_index_names_the_url_and_how_to_use_a_mirror_or_a_folder()
    {
        // Act
        var run = () => Sandbox(WithIndex(_greet.Distribution) with { PackageIndex = Unreachable }).RunAsync(GreetCode, "greet", "[\"Ada\"]");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageDownloadException>()).Which;
        error.Url.Should().StartWith(Unreachable);
        error.Message.Should().Contain("could not be reached").And.Contain(Unreachable)
            .And.Contain("ANYDEF_PACKAGE_INDEX").And.Contain("anydef packages fetch");
        CachedFiles().Should().BeEmpty();
    }

    [Fact]
    public async Task An_unknown_package_is_an_error_that_lists_close_names()
    {
        // Act
        var run = () => Sandbox(WithIndex($"anydef-gret-{_wheels.Suffix}")).RunAsync(GreetCode, "greet", "[\"Ada\"]");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageNotFoundException>()).Which;
        error.CloseNames.Should().Contain(_greet.Distribution);
        error.Message.Should().Contain($"Did you mean '{_greet.Distribution}'");
        _index.Requests.Should().BeEmpty();
    }

    [Fact]
    public async Task A_wheel_built_for_pyodide_is_installed_by_pyodide_from_the_hosts_folder()
    {
        // Arrange: the platform tag sends it through Pyodide's own loader (which also loads compiled libraries).
        var wasm = _wheels.Build($"anydef-wasm-{_wheels.Suffix}", $"anydef_wasm_{_wheels.Suffix}", "def triple(x):\n    return 3 * x\n",
            "1.0", "cp314-cp314-pyemscripten_2026_0_wasm32");
        _wheels.AddToLock(wasm);
        var code = $"from anydef_wasm_{_wheels.Suffix} import triple\n\ndef run(x):\n    return triple(x)\n";

        // Act
        var result = await Sandbox(WithIndex(wasm.Distribution)).RunAsync(code, "run", "[14]");

        // Assert
        result.ResultJson.Should().Be("42");
        _index.Requests.Should().Equal(wasm.FileName);
    }

    [Fact]
    public async Task A_folder_of_wheels_works_with_no_index_at_all()
    {
        // Arrange: the wheel requires its dependency by its METADATA; neither is in the lock file.
        var wheels = new TestWheels();
        var tool = wheels.Build($"anydef-tool-{wheels.Suffix}", $"anydef_tool_{wheels.Suffix}",
            $"from anydef_util_{wheels.Suffix} import double\n\ndef quadruple(x):\n    return double(double(x))\n", requires: [$"anydef-util-{wheels.Suffix}>=1.0"]);
        wheels.Build($"anydef-util-{wheels.Suffix}", $"anydef_util_{wheels.Suffix}", "def double(x):\n    return 2 * x\n");
        var options = TestEnvironment.Sandbox with { Packages = [tool.Distribution], WheelDirectory = wheels.Folder, PackageIndex = Unreachable };
        var code = $"from anydef_tool_{wheels.Suffix} import quadruple\n\ndef run(x):\n    return quadruple(x)\n";

        // Act
        var result = await Sandbox(options).RunAsync(code, "run", "[5]");

        // Assert
        result.ResultJson.Should().Be("20");
    }

    [Fact]
    public async Task Code_in_a_sandbox_with_packages_has_no_network_and_cannot_change_or_reach_beyond_the_package_files()
    {
        // Arrange
        var sandbox = Sandbox(WithIndex(_greet.Distribution));
        await sandbox.RunAsync(GreetCode, "greet", "[\"Ada\"]");
        var folder = sandbox.PackageDirectoryOf(GreetCode, "greet")!;
        var linked = Path.Combine(folder, _greet.FileName);
        var cached = CachedFiles().Single(f => f.EndsWith(_greet.FileName, StringComparison.Ordinal));
        async Task<string> Probe(string body)
        {
            var code = "import js\nfrom pyodide.ffi import run_sync\n\ndef probe(path):\n    try:\n        " + body + "\n        return 'allowed'\n    except Exception as e:\n        return str(e)\n";
            return System.Text.Json.JsonSerializer.Deserialize<string>((await sandbox.RunAsync(code, "probe", $"[{System.Text.Json.JsonSerializer.Serialize(linked)}]")).ResultJson)!;
        }

        // Act
        var write = await Probe("js.Deno.writeFileSync(path, js.Uint8Array.new(3))");
        var remove = await Probe("js.Deno.removeSync(path)");
        var readOther = await Probe($"js.Deno.readFileSync({System.Text.Json.JsonSerializer.Serialize(cached)})");
        var net = await Probe($"run_sync(js.fetch({System.Text.Json.JsonSerializer.Serialize(_index.Url + _greet.FileName)}))");
        var requestsBefore = _index.Requests.Count;

        // Assert
        write.Should().Contain("NotCapable").And.Contain("write access");
        remove.Should().Contain("NotCapable").And.Contain("write access");
        readOther.Should().Contain("NotCapable").And.Contain("read access");
        net.Should().Contain("NotCapable").And.Contain("net access");
        _index.Requests.Should().HaveCount(requestsBefore);
        Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(linked))).ToLowerInvariant().Should().Be(_greet.Sha256);
        Convert.ToHexString(SHA256.HashData(await File.ReadAllBytesAsync(cached))).ToLowerInvariant().Should().Be(_greet.Sha256);
    }

    [Fact]
    public async Task An_import_of_an_undeclared_package_is_refused_with_what_is_available()
    {
        // Arrange
        var code = $"import anydef_greet_{_wheels.Suffix}\nimport numpy\n\ndef run():\n    return 1\n";

        // Act
        var run = () => Sandbox(WithIndex(_greet.Distribution)).RunAsync(code, "run");

        // Assert
        var error = (await run.Should().ThrowAsync<PythonExecutionException>()).Which;
        error.PythonType.Should().Be("ModuleNotFoundError");
        error.PythonMessage.Should().Contain("'numpy'").And.Contain($"{_greet.Distribution} 1.0").And.NotContain($"'anydef_greet_{_wheels.Suffix}'");
    }

    [Fact]
    public async Task A_host_process_ends_without_leaving_its_package_folder_behind()
    {
        // Arrange
        var sandbox = new PythonSandbox(WithIndex(_greet.Distribution));
        await sandbox.RunAsync(GreetCode, "greet", "[\"Ada\"]");
        var folder = sandbox.PackageDirectoryOf(GreetCode, "greet")!;
        Directory.Exists(folder).Should().BeTrue();

        // Act
        await sandbox.DisposeAsync();

        // Assert
        Directory.Exists(folder).Should().BeFalse();
    }

    [Fact]
    public void Package_sets_are_normalized_and_equal_by_value_so_equal_options_share_a_pool()
    {
        PackageSet a = ["Python_Dateutil", "regex", "regex"];
        PackageSet b = ["REGEX", "python-dateutil"];

        a.Should().Equal("python-dateutil", "regex");
        a.Equals(b).Should().BeTrue();
        a.GetHashCode().Should().Be(b.GetHashCode());
        (TestEnvironment.Sandbox with { Packages = a }).Should().Be(TestEnvironment.Sandbox with { Packages = b });
        var bad = () => PackageSet.Create(["numpy>=2"]);
        bad.Should().Throw<ArgumentException>().WithMessage("*'numpy>=2' is not a package name*");
    }
}
