using System.Security.Cryptography;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// The host scripts and the interpreter snapshot are checked against their SHA-256 whenever a process is started from
/// them, not only when they were written: a copy that changed on disk never runs. Each test has a cache folder of its
/// own, so what it changes reaches no other test.
/// </summary>
public sealed class HostFileIntegritySpecs : IAsyncLifetime
{
    private const string Code = "def f(x):\n    return x * 2\n";
    private readonly string _cache = TestEnvironment.TempDir();
    private readonly List<PythonSandbox> _sandboxes = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var s in _sandboxes) await s.DisposeAsync();
    }

    private PythonSandbox Sandbox(SandboxOptions? options = null)
    {
        var sandbox = new PythonSandbox(options ?? Options());
        _sandboxes.Add(sandbox);
        return sandbox;
    }

    private SandboxOptions Options() => TestEnvironment.Sandbox with { CacheDirectory = _cache, SpareProcesses = 0, MaxProcesses = 2 };

    private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    private static void FlipByteInPlace(string path, long at)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = at;
        var b = file.ReadByte();
        file.Position = at;
        file.WriteByte((byte)(b ^ 0x01));
    }

    [Fact]
    public async Task A_host_script_in_the_cache_changed_after_the_first_load_is_written_again_from_the_library_before_a_process_starts()
    {
        // Arrange: a first process loads the scripts; then the worker's Python half is changed to answer something else.
        (await Sandbox().RunAsync(Code, "f", "[21]")).ResultJson.Should().Be("42");
        var runtime = Directory.GetFiles(Path.Combine(_cache, "host"), "runtime.py", SearchOption.AllDirectories).Single();
        var original = await File.ReadAllBytesAsync(runtime);
        await File.AppendAllTextAsync(runtime, "\nraise SystemExit('changed on disk')\n");

        // Act: a new sandbox starts new processes from the same folder.
        var result = await Sandbox(Options() with { UseSnapshot = false }).RunAsync(Code, "f", "[5]");

        // Assert
        result.ResultJson.Should().Be("10");
        (await File.ReadAllBytesAsync(runtime)).Should().Equal(original, "the changed copy is replaced by the library's own before any process loads it");
    }

    [Fact]
    public async Task A_snapshot_changed_on_disk_after_it_was_verified_is_refused_by_the_host_made_again_and_the_call_succeeds()
    {
        // Arrange: the snapshot is made (its SHA-256 recorded beside it) and used once; then a byte in its middle is flipped.
        (await Sandbox().RunAsync(Code, "f", "[21]")).ResultJson.Should().Be("42");
        var snapshot = Directory.GetFiles(Path.Combine(_cache, "snapshots"), "*.bin").Single();
        var recorded = (await File.ReadAllTextAsync(snapshot + ".sha256")).Trim();
        Sha(snapshot).Should().Be(recorded);
        FlipByteInPlace(snapshot, new FileInfo(snapshot).Length / 2);

        // Act: a new sandbox starts a new process from it (this run verified the file already: the host's own check decides).
        var result = await Sandbox().RunAsync(Code, "f", "[5]");

        // Assert
        result.ResultJson.Should().Be("10");
        Sha(snapshot).Should().Be((await File.ReadAllTextAsync(snapshot + ".sha256")).Trim(), "the changed snapshot was made again");
    }
}
