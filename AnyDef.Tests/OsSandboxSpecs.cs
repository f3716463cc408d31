using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// The operating-system wall beneath Deno: a host started with Deno's broadest permissions still cannot read, write or
/// connect outside. The same host without the wall can, which proves the probe would notice a hole.
/// </summary>
[Trait("Category", "Sandbox")]
public sealed class OsSandboxSpecs
{
    // Tries all three through Deno's own APIs (Python's open() only sees Pyodide's in-memory file system).
    private const string Probe = """
        async def probe(secret, outside, port):
            import js
            from pyodide.ffi import to_js
            seen = {}
            try:
                seen["read"] = js.Deno.readTextFileSync(secret)
            except Exception as e:
                seen["read"] = "denied: " + str(e)[:200]
            try:
                js.Deno.writeTextFileSync(outside, "written from the sandbox")
                seen["wrote"] = True
            except Exception as e:
                seen["wrote"] = False
            try:
                conn = await js.Deno.connect(to_js({"hostname": "127.0.0.1", "port": port}, dict_converter=js.Object.fromEntries))
                conn.close()
                seen["connected"] = True
            except Exception as e:
                seen["connected"] = False
            return seen
        """;

    // Where CI installed bubblewrap the wall must be tested (ANYDEF_EXPECT_OS_WALL=1); elsewhere the test is reported skipped.
    private static void SkipUnlessWallAvailable()
    {
        if (OsSandbox.Bwrap is null)
        {
            Environment.GetEnvironmentVariable("ANYDEF_EXPECT_OS_WALL").Should().NotBe("1", "bwrap is installed, so the OS layer must work and be tested");
        }

        Skip.If(OsSandbox.Bwrap is null, "bubblewrap (bwrap) is not installed or cannot make namespaces here: the OS layer is not tested on this machine");
    }

    private static async Task<(JsonElement Seen, bool Accepted, bool Written, string Secret)> ProbeAsync(bool wall, SandboxTransport transport)
    {
        var dir = TestEnvironment.TempDir();
        var secret = Path.Combine(dir, "secret.txt");
        var secretText = "secret-" + Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(secret, secretText);
        var outside = Path.Combine(dir, "written.txt");
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with
        {
            SpareProcesses = 0,
            UseOsSandbox = wall,
            BroadDenoPermissionsForTests = true,
            Transport = transport,
        });
        var result = await sandbox.RunAsync(Probe, "probe", JsonSerializer.Serialize(new object[] { secret, outside, port }), timeout: TimeSpan.FromSeconds(20));

        using var doc = JsonDocument.Parse(result.ResultJson);
        return (doc.RootElement.Clone(), listener.Pending(), File.Exists(outside), secretText);
    }

    [SkippableFact]
    public async Task A_host_with_broad_deno_permissions_inside_the_os_layer_cannot_read_write_or_connect_outside()
    {
        SkipUnlessWallAvailable();

        var (seen, accepted, written, secret) = await ProbeAsync(wall: true, SandboxTransport.UnixSocket);

        seen.GetProperty("read").GetString().Should().NotContain(secret).And.StartWith("denied");
        seen.GetProperty("wrote").GetBoolean().Should().BeFalse();
        written.Should().BeFalse("no file appeared outside the sandbox");
        seen.GetProperty("connected").GetBoolean().Should().BeFalse();
        accepted.Should().BeFalse("no connection reached the listener on 127.0.0.1");
    }

    [SkippableFact]
    public async Task Over_tcp_the_os_layer_shares_only_the_network_so_a_broad_host_still_cannot_read_or_write_outside()
    {
        SkipUnlessWallAvailable();

        var (seen, accepted, written, secret) = await ProbeAsync(wall: true, SandboxTransport.Tcp);

        seen.GetProperty("read").GetString().Should().NotContain(secret).And.StartWith("denied");
        seen.GetProperty("wrote").GetBoolean().Should().BeFalse();
        written.Should().BeFalse("no file appeared outside the sandbox");
        // The host must reach the library's 127.0.0.1, so over TCP the network is Deno's wall alone (see TransportSpecs).
        seen.GetProperty("connected").GetBoolean().Should().BeTrue("the network namespace is shared over TCP, as documented");
        accepted.Should().BeTrue();
    }

    [Fact]
    public async Task Without_the_os_layer_the_same_broad_host_can_do_all_three_so_the_probe_is_real()
    {
        var (seen, accepted, written, secret) = await ProbeAsync(wall: false, TestEnvironment.Sandbox.Transport);

        seen.GetProperty("read").GetString().Should().Be(secret);
        written.Should().BeTrue();
        seen.GetProperty("connected").GetBoolean().Should().BeTrue();
        accepted.Should().BeTrue();
    }

    [SkippableFact]
    public async Task Inside_the_os_layer_the_host_sees_its_own_process_tree_and_an_empty_environment()
    {
        SkipUnlessWallAvailable();
        const string code = """
            def look():
                import js
                return [int(js.Deno.pid), js.Deno.env.toObject().to_py()]
            """;
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, BroadDenoPermissionsForTests = true });

        var seen = JsonSerializer.Deserialize<JsonElement>((await sandbox.RunAsync(code, "look")).ResultJson);

        seen[0].GetInt32().Should().BeLessThan(10, "a new PID namespace numbers its processes from 1");
        var environment = seen[1].EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString());
        environment.Keys.Should().BeSubsetOf(["DENO_DIR", "NO_COLOR", "DENO_NO_UPDATE_CHECK", "MALLOC_MMAP_THRESHOLD_", "PWD"], "the host's environment is emptied");
        environment.GetValueOrDefault("PWD", "/").Should().Be("/", "bwrap names the working folder, which is the sandbox's root");
    }

    [SkippableFact]
    [Trait("Category", "Hostile")]
    public async Task Inside_the_os_layer_no_process_shows_the_applications_environment()
    {
        SkipUnlessWallAvailable();
        // A variable of the application, like a model API key, set before the host starts.
        var name = "ANYDEF_TEST_SECRET_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        var secret = "sk-" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(name, secret);
        try
        {
            const string code = """
                def look():
                    import js
                    seen = {}
                    for path in ["/proc/1/environ", "/proc/2/environ", "/proc/self/environ", "/proc/1/cmdline"]:
                        try:
                            seen[path] = js.Deno.readTextFileSync(path)
                        except Exception as e:
                            seen[path] = "unreadable: " + str(e)[:200]
                    return seen
                """;
            await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, BroadDenoPermissionsForTests = true });

            var seen = JsonSerializer.Deserialize<Dictionary<string, string>>((await sandbox.RunAsync(code, "look")).ResultJson)!;

            seen["/proc/1/cmdline"].Should().Contain("bwrap", "PID 1 inside the wall is bubblewrap itself, so the probe reads the right process");
            foreach (var (path, text) in seen)
            {
                // Not printed on failure: the text would be the environment of the process running the tests.
                (text.Contains(secret, StringComparison.Ordinal) || text.Contains(name, StringComparison.Ordinal)).Should().BeFalse($"{path} must show nothing of the application's environment");
            }

            seen["/proc/1/environ"].Length.Should().Be(0, "bubblewrap is started with an empty environment");
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [SkippableFact]
    [Trait("Category", "Hostile")]
    public async Task Inside_the_os_layer_kernel_settings_cannot_be_opened_for_writing()
    {
        SkipUnlessWallAvailable();
        // Opened, never written: as root without the read-only bind the open succeeds, and the test must not change the kernel.
        const string code = """
            def look():
                import js
                from pyodide.ffi import to_js
                seen = {}
                for path in ["/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/hostname"]:
                    try:
                        f = js.Deno.openSync(path, to_js({"write": True}, dict_converter=js.Object.fromEntries))
                        f.close()
                        seen[path] = "opened for writing"
                    except Exception as e:
                        seen[path] = "refused: " + str(e)[:200]
                seen["read"] = js.Deno.readTextFileSync("/proc/sys/kernel/ostype")
                return seen
            """;
        await using var sandbox = new PythonSandbox(TestEnvironment.Sandbox with { SpareProcesses = 0, BroadDenoPermissionsForTests = true });

        var seen = JsonSerializer.Deserialize<Dictionary<string, string>>((await sandbox.RunAsync(code, "look")).ResultJson)!;

        seen["read"].Should().StartWith("Linux", "/proc/sys stays readable");
        foreach (var (path, verdict) in seen.Where(p => p.Key != "read")) verdict.Should().StartWith("refused", $"{path} is bound read-only");
    }
}
