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
        // A port found free may be taken by another process before the server binds it: then another port is tried.
        for (var attempt = 1; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var server = new GarnetServer(["--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            try
            {
                server.Start();
                _server = server;
                return;
            }
            catch (Exception) when (attempt < 5)
            {
                server.Dispose();
            }
        }
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
