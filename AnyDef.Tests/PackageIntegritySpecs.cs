using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// A package file is checked against its SHA-256 whenever a process loads it, not only when it was downloaded: a cached
/// file that changed (replaced by another valid wheel, a byte flipped anywhere) never runs; it is deleted, fetched
/// again from the index (a real one on 127.0.0.1 serving wheels the test built) and the right code runs.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class PackageIntegritySpecs : IAsyncLifetime
{
    private readonly TestWheels _wheels = new();
    private readonly List<PythonSandbox> _sandboxes = [];
    private PackageIndexServer _index = null!;
    private TestWheels.Wheel _base = null!;
    private TestWheels.Wheel _greet = null!;

    public async Task InitializeAsync()
    {
        (_base, _greet) = _wheels.BuildGreeting("i");
        _index = await PackageIndexServer.StartAsync(_wheels.Folder);
    }

    public async Task DisposeAsync()
    {
        foreach (var s in _sandboxes) await s.DisposeAsync();
        await _index.DisposeAsync();
    }

    private Task<SandboxResult> GreetAsync(string name)
    {
        var sandbox = new PythonSandbox(TestEnvironment.Sandbox with
        {
            Packages = [_greet.Distribution],
            PackageIndex = _index.Url,
            PackageLockFile = _wheels.LockFile,
        });
        _sandboxes.Add(sandbox);
        return sandbox.RunAsync($"import anydef_igreet_{_wheels.Suffix} as g\n\ndef greet(name):\n    return g.hello(name)\n", "greet", $"[\"{name}\"]");
    }

    private static string Cached(TestWheels.Wheel wheel) =>
        Path.Combine(RuntimeLocation.CacheRoot(TestEnvironment.Sandbox), "packages", wheel.Sha256, wheel.FileName);

    // Another valid wheel with the same names, whose module says something else.
    private string Impostor()
    {
        var other = new TestWheels();
        var wheel = other.Build(_greet.Distribution, _greet.Module, "def hello(name):\n    return 'pwned ' + name\n");
        return wheel.Path;
    }

    [Fact]
    public async Task A_cached_wheel_replaced_by_another_valid_wheel_is_refused_fetched_again_and_the_right_code_runs()
    {
        // Arrange: a first run caches the files; then the cached wheel is replaced (a new file moved over it).
        (await GreetAsync("Ada")).ResultJson.Should().Be("\"Hello, Ada!\"");
        File.Move(Impostor(), Cached(_greet), overwrite: true);

        // Act
        var result = await GreetAsync("Bob");

        // Assert
        result.ResultJson.Should().Be("\"Hello, Bob!\"", "the replaced file must never run");
        _index.Requests.Count(r => r == _greet.FileName).Should().Be(2, "the changed file is fetched again, once");
        File.ReadAllBytes(Cached(_greet)).Should().Equal(File.ReadAllBytes(_greet.Path));
    }

    [Theory]
    [InlineData(2)] // the zip's local header signature
    [InlineData(-20)] // the end-of-central-directory record
    [InlineData(0)] // the middle of the file (0 means half its length)
    public async Task A_cached_wheel_with_a_byte_flipped_in_place_is_refused_fetched_again_and_the_right_code_runs(int offset)
    {
        // Arrange: the byte is flipped in place, so the host's hard link to the cached file sees it too.
        (await GreetAsync("Ada")).ResultJson.Should().Be("\"Hello, Ada!\"");
        var path = Cached(_greet);
        var length = new FileInfo(path).Length;
        var at = offset == 0 ? length / 2 : offset < 0 ? length + offset : offset;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = at;
            var b = file.ReadByte();
            file.Position = at;
            file.WriteByte((byte)(b ^ 0x01));
        }

        // Act
        var result = await GreetAsync("Bob");

        // Assert
        result.ResultJson.Should().Be("\"Hello, Bob!\"");
        _index.Requests.Count(r => r == _greet.FileName).Should().Be(2);
    }

    [Fact]
    public async Task A_pinned_dependency_with_other_bytes_in_its_cache_folder_before_the_first_use_is_fetched_from_the_index()
    {
        // Arrange: before this run ever used it, the dependency's content-addressed cache path holds other bytes.
        var other = new TestWheels();
        var impostor = other.Build(_base.Distribution, _base.Module, "PREFIX = 'pwned '\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Cached(_base))!);
        File.Copy(impostor.Path, Cached(_base));

        // Act
        var result = await GreetAsync("Ada");

        // Assert
        result.ResultJson.Should().Be("\"Hello, Ada!\"");
        _index.Requests.Should().Contain(_base.FileName, "the index is asked for the file whose cached copy did not match");
        File.ReadAllBytes(Cached(_base)).Should().Equal(File.ReadAllBytes(_base.Path));
    }

    [Fact]
    public async Task An_index_that_serves_other_bytes_after_the_cached_copy_changed_is_an_error_naming_the_file()
    {
        // Arrange: the cached copy changes, and the index now serves the impostor too.
        (await GreetAsync("Ada")).ResultJson.Should().Be("\"Hello, Ada!\"");
        var impostor = Impostor();
        File.Copy(impostor, Cached(_greet), overwrite: true);
        File.Copy(impostor, _greet.Path, overwrite: true);

        // Act
        var run = () => GreetAsync("Bob");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageHashMismatchException>()).Which;
        error.FileName.Should().Be(_greet.FileName);
        error.ExpectedSha256.Should().Be(_greet.Sha256);
        error.Message.Should().Contain(_greet.FileName).And.Contain("not kept");
        File.Exists(Cached(_greet)).Should().BeFalse("nothing that failed its check stays in the cache");
    }

    [Theory]
    [InlineData("../../escaped-{0}.whl")]
    [InlineData("sub/dir-{0}.whl")]
    [InlineData("/tmp/absolute-{0}.whl")]
    [InlineData("not-a-wheel-{0}.exe")]
    public async Task A_lock_entry_whose_file_name_is_not_a_plain_file_name_is_refused_before_any_path_is_made(string fileName)
    {
        // Arrange
        var name = string.Format(System.Globalization.CultureInfo.InvariantCulture, fileName, _wheels.Suffix);
        var lockFile = Path.Combine(_wheels.Folder, "bad-lock.json");
        File.WriteAllText(lockFile, File.ReadAllText(_wheels.LockFile).Replace(_greet.FileName, name, StringComparison.Ordinal));
        var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { Packages = [_greet.Distribution], PackageIndex = _index.Url, PackageLockFile = lockFile });
        _sandboxes.Add(sandbox);

        // Act
        var run = () => sandbox.RunAsync("def f():\n    return 1\n", "f");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageException>()).Which;
        error.Message.Should().Contain(name).And.Contain("plain file name");
        _index.Requests.Should().BeEmpty();
        var cache = RuntimeLocation.CacheRoot(TestEnvironment.Sandbox);
        Directory.EnumerateFiles(cache, $"*{_wheels.Suffix}*").Should().BeEmpty();
        Directory.EnumerateFiles(Path.Combine(cache, "packages"), $"*{_wheels.Suffix}*", SearchOption.AllDirectories).Should().BeEmpty();
    }

    [SkippableFact]
    public async Task A_read_error_in_a_local_index_folder_is_a_package_download_error_naming_the_file()
    {
        // Arrange: the folder's wheel is a file that exists and fails when read (reading /proc/self/mem at 0 is EIO).
        Skip.IfNot(OperatingSystem.IsLinux(), "needs /proc/self/mem to make a read fail");
        var folder = TestEnvironment.TempDir();
        File.Copy(_wheels.LockFile, Path.Combine(folder, "pyodide-lock.json"));
        File.Copy(_base.Path, Path.Combine(folder, _base.FileName));
        File.CreateSymbolicLink(Path.Combine(folder, _greet.FileName), "/proc/self/mem");
        var sandbox = new PythonSandbox(TestEnvironment.Sandbox with
        {
            Packages = [_greet.Distribution],
            PackageIndex = folder,
            PackageLockFile = _wheels.LockFile,
        });
        _sandboxes.Add(sandbox);

        // Act
        var run = () => sandbox.RunAsync("def f():\n    return 1\n", "f");

        // Assert
        var error = (await run.Should().ThrowAsync<PackageDownloadException>()).Which;
        error.Url.Should().Be(Path.Combine(folder, _greet.FileName));
        error.Message.Should().Contain("Reading the package file").And.Contain(_greet.FileName).And.Contain("nothing was kept");
        error.InnerException.Should().BeAssignableTo<IOException>();
    }

    [Theory]
    [InlineData(">=1.0", null)]
    [InlineData("(>=1.0,<2)", null)]
    [InlineData("~=1.0", null)]
    [InlineData("==1.*", null)]
    [InlineData(">=2.0", "requires")]
    [InlineData("<1.0", "requires")]
    [InlineData("!=1.0", "requires")]
    public async Task A_user_wheels_required_version_is_kept_and_checked_against_the_version_found(string specifier, string? error)
    {
        // Arrange
        var wheels = new TestWheels();
        var tool = wheels.Build($"anydef-vtool-{wheels.Suffix}", $"anydef_vtool_{wheels.Suffix}",
            $"from anydef_vutil_{wheels.Suffix} import double\n\ndef quadruple(x):\n    return double(double(x))\n", requires: [$"anydef-vutil-{wheels.Suffix} {specifier}"]);
        wheels.Build($"anydef-vutil-{wheels.Suffix}", $"anydef_vutil_{wheels.Suffix}", "def double(x):\n    return 2 * x\n", version: "1.0");
        var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { Packages = [tool.Distribution], WheelDirectory = wheels.Folder, PackageIndex = "http://127.0.0.1:1/" });
        _sandboxes.Add(sandbox);

        // Act
        var run = () => sandbox.RunAsync($"from anydef_vtool_{wheels.Suffix} import quadruple\n\ndef run(x):\n    return quadruple(x)\n", "run", "[5]");

        // Assert
        if (error is null)
        {
            (await run()).ResultJson.Should().Be("20");
        }
        else
        {
            var thrown = (await run.Should().ThrowAsync<PackageException>()).Which;
            thrown.Message.Should().Contain($"requires 'anydef-vutil-{wheels.Suffix} {specifier.Trim('(', ')')}'").And.Contain("the version available is 1.0");
        }
    }
}
