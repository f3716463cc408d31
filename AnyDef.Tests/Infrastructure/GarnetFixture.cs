using System.Net;
using System.Net.Sockets;
using Garnet;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>A real Redis-protocol server (Microsoft's Garnet) on 127.0.0.1, on a free port, for the fleet specs.</summary>
public sealed class GarnetFixture : IDisposable
{
    private readonly GarnetServer _server;
    private int _disposed;

    public GarnetFixture()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _server = new GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        _server.Start();
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis connection string of the server.</summary>
    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Stops the server (as a crash would, for its clients); a second call does nothing.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _server.Dispose();
    }
}
