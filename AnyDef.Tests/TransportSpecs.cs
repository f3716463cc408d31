using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// The loopback TCP transport (the channel on Windows, selectable elsewhere): the library listens on 127.0.0.1, only the
/// connection that presents the one-time secret from the host's standard input becomes the channel, Deno's network
/// permission names only that address and port, and Python gets no network at all.
/// </summary>
[Trait("Category", "Sandbox")]
public sealed class TransportSpecs
{
    private const string Add = "def add(a, b):\n    return a + b\n";

    private static SandboxOptions Tcp(Action<int>? listening = null) => TestEnvironment.Sandbox with
    {
        Transport = SandboxTransport.Tcp,
        SpareProcesses = 0,
        MaxProcessesPerFunction = 1,
        TcpListeningForTests = listening,
    };

    [Fact]
    public async Task A_host_over_tcp_answers_calls_and_deno_may_reach_only_the_librarys_address_and_port()
    {
        // Arrange
        var ports = new ConcurrentQueue<int>();
        await using var sandbox = new PythonSandbox(Tcp(ports.Enqueue));

        // Act
        var result = await sandbox.RunAsync(Add, "add", "[2, 3]");

        // Assert
        result.ResultJson.Should().Be("5");
        ports.Should().ContainSingle();
        var arguments = DenoArguments(sandbox.ProcessIdOf(Add, "add")!.Value);
        arguments.Where(a => a.StartsWith("--allow-net", StringComparison.Ordinal)).Should().Equal($"--allow-net=127.0.0.1:{ports.Single()}");
        arguments.Should().NotContain(a => a.StartsWith("--allow-write", StringComparison.Ordinal), "a TCP host writes nothing, not even a socket");
        arguments.Should().NotContain(a => a.Contains("host.sock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_connection_without_the_secret_or_with_a_wrong_one_never_becomes_the_channel_and_the_real_host_still_does()
    {
        // Arrange: strangers connect before the host has even been launched.
        var silent = new TcpClient();
        var wrong = new TcpClient();
        var early = new TcpClient();
        void Intrude(int port)
        {
            silent.Connect(IPAddress.Loopback, port);
            wrong.Connect(IPAddress.Loopback, port);
            wrong.GetStream().Write(new byte[32]);
            // A forged reply as if it were the host: it must never be read as one.
            wrong.GetStream().Write("{\"ready\":true}\n"u8);
            early.Connect(IPAddress.Loopback, port);
            early.GetStream().Write("short"u8);
            early.Client.Shutdown(SocketShutdown.Send);
        }

        using (silent)
        using (wrong)
        using (early)
        {
            await using var sandbox = new PythonSandbox(Tcp(Intrude));

            // Act
            var result = await sandbox.RunAsync(Add, "add", "[40, 2]");

            // Assert
            result.ResultJson.Should().Be("42", "the real host became the channel");
            (await ClosedByPeerAsync(wrong)).Should().BeTrue("a wrong secret is dropped");
            (await ClosedByPeerAsync(early)).Should().BeTrue("a short secret is dropped");
            (await ClosedByPeerAsync(silent)).Should().BeTrue("a connection that presents nothing is dropped once the host is connected");
        }
    }

    [Fact]
    [Trait("Category", "Hostile")]
    public async Task A_flood_of_silent_local_connections_to_each_new_listener_does_not_stop_hosts_from_starting()
    {
        // Arrange: another local process holds more silent connections to every new listener than the library would wait on.
        const int PerListener = 80;
        var held = new ConcurrentBag<TcpClient>();
        var floods = new ConcurrentBag<Task>();
        var connected = 0;
        // While the host is launched, as a process racing it would.
        void Flood(int port) => floods.Add(Task.Run(async () =>
        {
            for (var i = 0; i < PerListener; i++)
            {
                var client = new TcpClient();
                held.Add(client);
                try
                {
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    Interlocked.Increment(ref connected);
                }
                catch (SocketException)
                {
                    // The listener closed or dropped this connection (the host was already connected, or it was evicted):
                    // what the library does to an intruder, not a failure of the flood.
                }
            }
        }));

        try
        {
            await using var sandbox = new PythonSandbox(Tcp(Flood));

            // Act: four new functions, each its own host and listener.
            var results = new List<string>();
            for (var i = 0; i < 4; i++) results.Add((await sandbox.RunAsync(Add.Replace("add", $"add{i}", StringComparison.Ordinal), $"add{i}", $"[{i}, 1]")).ResultJson);

            // Assert
            results.Should().Equal("1", "2", "3", "4");
            await Task.WhenAll(floods);
            held.Should().HaveCount(4 * PerListener, "every listener was flooded");
            connected.Should().BeGreaterThanOrEqualTo(4 * 16, "the flood really held connections to the listeners (16 each stopped hosts before)");
        }
        finally
        {
            foreach (var client in held) client.Dispose();
        }
    }

    [Fact]
    public async Task Python_cannot_open_a_socket_to_the_port_the_library_listened_on()
    {
        // Arrange
        const string code = """
            async def knock(port):
                import js
                from pyodide.ffi import to_js
                try:
                    conn = await js.Deno.connect(to_js({"hostname": "127.0.0.1", "port": port}, dict_converter=js.Object.fromEntries))
                    conn.close()
                    return "connected"
                except Exception as e:
                    return str(e)[:300]
            """;
        var ports = new ConcurrentQueue<int>();
        await using var sandbox = new PythonSandbox(Tcp(ports.Enqueue));
        await sandbox.RunAsync(code, "knock", "[1]");
        var port = ports.Single();
        // The library's listener is gone once its host connected: listen there ourselves, so a connection would succeed
        // if Python were allowed to make it.
        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();

        // Act
        var seen = JsonSerializer.Deserialize<string>((await sandbox.RunAsync(code, "knock", $"[{port}]")).ResultJson);

        // Assert
        seen.Should().Contain("NotCapable").And.Contain("net access", "the Python worker has no network permission, not even the host's");
        listener.Pending().Should().BeFalse("no connection reached the port");
    }

    [Fact]
    public async Task Sandboxed_code_finds_standard_input_empty_after_the_host_read_its_secret()
    {
        // Arrange
        const string code = """
            def peek():
                import js
                buf = js.Uint8Array.new(64)
                try:
                    n = js.Deno.stdin.readSync(buf)
                    return "read " + str(n)
                except Exception as e:
                    return "error: " + str(e)[:200]
            """;
        await using var sandbox = new PythonSandbox(Tcp());

        // Act
        var seen = JsonSerializer.Deserialize<string>((await sandbox.RunAsync(code, "peek")).ResultJson);

        // Assert
        seen.Should().Be("read jsnull", "the secret was read and standard input closed before any code ran: reading finds its end at once");
    }

    private static async Task<bool> ClosedByPeerAsync(TcpClient client)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new byte[256];
        try
        {
            while (true)
            {
                if (await client.Client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0) return true;
            }
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    // The Deno process of a host (the host itself, or the child of its bubblewrap wrapper) and its arguments.
    private static IReadOnlyList<string> DenoArguments(int hostPid)
    {
        var pids = new[] { hostPid }.Concat(ProcessTree.Descendants(hostPid, "host.ts"));
        foreach (var pid in pids)
        {
            var args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
            if (args.Length > 0 && Path.GetFileName(args[0]) == "deno") return args;
        }

        throw new InvalidOperationException($"No Deno process under {hostPid}.");
    }
}
