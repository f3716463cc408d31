using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Caching.Memory;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Shared pieces of every test: one real sandbox for the run, a fresh fake model server per test.</summary>
public static class TestEnvironment
{
    /// <summary>The sandbox settings all tests share, so its processes are started once per run.</summary>
    /// <remarks>ANYDEF_TEST_TRANSPORT=tcp (or unix) runs every sandbox test over that transport.</remarks>
    public static readonly SandboxOptions Sandbox = SandboxOptions.Default with { MaxProcesses = 12, SpareProcesses = 2, Transport = Transport() };

    /// <summary>The transport the sandbox tests run over in this test run.</summary>
    public static SandboxTransport Transport() => Environment.GetEnvironmentVariable("ANYDEF_TEST_TRANSPORT")?.ToLowerInvariant() switch
    {
        "tcp" => SandboxTransport.Tcp,
        "unix" => SandboxTransport.UnixSocket,
        null or "" => SandboxTransport.Automatic,
        var other => throw new InvalidOperationException($"ANYDEF_TEST_TRANSPORT must be tcp or unix (was '{other}')."),
    };

    /// <summary>Options pointed at <paramref name="server"/>, with a private cache so tests never see each other's code.</summary>
    public static AnyDefOptions Options(FakeChatServer server) => new()
    {
        Endpoint = server.BaseUrl,
        ApiKey = "test-key",
        Model = "fake-model",
        Sandbox = Sandbox,
        Cache = new MemoryCache(new MemoryCacheOptions()),
        Timeout = TimeSpan.FromSeconds(10),
    };

    /// <summary>A description no other test uses, so spec hashes never collide across tests.</summary>
    public static string Unique(string description) => $"{description} (test {Guid.NewGuid():N})";

    private static readonly Lazy<string> RunDir = new(() =>
    {
        var dir = Directory.CreateTempSubdirectory("anydef-tests-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return dir;
    });

    private static readonly List<Socket> Held = [];

    // Bound for the whole run and never listened on: a connection to it is refused, and no other process can take it.
    private static readonly Lazy<int> ClosedPort = new(() =>
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Held.Add(socket);
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    });

    /// <summary>A loopback URL nothing answers (connections are refused), on a port no other process can take.</summary>
    public static string UnreachableUrl(string path = "") => $"http://127.0.0.1:{ClosedPort.Value}/{path}";

    /// <summary>A new empty folder, removed with the others when the test run ends.</summary>
    public static string TempDir() => Directory.CreateDirectory(Path.Combine(RunDir.Value, Guid.NewGuid().ToString("N"))).FullName;
}
