using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// How one host process reaches the library: a listener made before the host is launched, the Deno permissions and
/// host settings that let the host connect to exactly it, and the accept that turns the one right connection into the
/// protocol channel. Either a Unix socket in a private folder (deleted once connected), or 127.0.0.1 on a free port
/// where the first bytes of a connection must be a one-time secret the host got on its standard input.
/// </summary>
internal sealed class HostTransport : IDisposable
{
    /// <summary>The length of the one-time secret a TCP host presents before anything else.</summary>
    internal const int SecretBytes = 32;

    // Connections that have not presented the secret yet; one more evicts the oldest of them. Any local process can
    // connect, so this only bounds the memory and sockets the wait costs: the host's own connection presents its secret
    // at once, so only this many connections arriving after it, before it was read, could push it out.
    private const int MaxUnproven = 64;

    // How long a connection may take to present the secret: the real host writes it in the same moment it connects,
    // so a connection that stays silent longer is someone else's.
    private static readonly TimeSpan ProofTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket _listener;
    private readonly string? _socketDirectory;
    private readonly byte[]? _secret;

    private HostTransport(Socket listener, string? socketDirectory, string? socketPath, int port, byte[]? secret)
    {
        _listener = listener;
        _socketDirectory = socketDirectory;
        SocketPath = socketPath;
        Port = port;
        _secret = secret;
    }

    /// <summary>The Unix socket the host connects to, or null for TCP.</summary>
    public string? SocketPath { get; }

    /// <summary>The port on 127.0.0.1 the host connects to, or 0 for a Unix socket.</summary>
    public int Port { get; }

    /// <summary>Whether the host must reach the network namespace of the library (loopback TCP).</summary>
    public bool NeedsHostNetwork => SocketPath is null;

    /// <summary>What the host reads on its standard input before anything else: the secret for TCP, nothing for a Unix socket.</summary>
    public ReadOnlyMemory<byte> StandardInput => _secret ?? ReadOnlyMemory<byte>.Empty;

    /// <summary>Deno's permissions for the channel (beyond <c>--allow-read</c>, which lists <see cref="SocketPath"/> when there is one).</summary>
    public IReadOnlyList<string> DenoPermissions => SocketPath is { } path
        // Deno wants read, write and net permission on a Unix socket path to connect to it; the socket is deleted once
        // connected, so these name nothing that exists afterwards.
        ? [$"--allow-write={path}", $"--allow-net=unix:{path}"]
        : [$"--allow-net=127.0.0.1:{Port}"];

    /// <summary>Starts listening for one host, by the transport <paramref name="options"/> select on this operating system.</summary>
    public static HostTransport Listen(SandboxOptions options) => options.EffectiveTransport == SandboxTransport.Tcp ? ListenTcp(options) : ListenUnix();

    private static HostTransport ListenUnix()
    {
        string dir;
        try
        {
            dir = Directory.CreateTempSubdirectory($"{HostProcess.SocketDirectoryPrefix}{Environment.ProcessId}-").FullName;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw TemporaryFolderUnusable(ex);
        }

        HostProcess.PendingSocketDirectories.TryAdd(dir, 0);
        var path = Path.Combine(dir, "host.sock");
        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(1);
            return new HostTransport(listener, dir, path, 0, null);
        }
        catch (Exception ex)
        {
            listener.Dispose();
            RemoveDirectory(dir);
            if (ex is SocketException or IOException or UnauthorizedAccessException) throw TemporaryFolderUnusable(ex);
            throw;
        }
    }

    /// <summary>The error for a temporary folder the private socket cannot be made in (read-only, full, or not a folder).</summary>
    internal static SandboxUnavailableException TemporaryFolderUnusable(Exception inner) => new(
        $"AnyDef makes each sandbox process's private socket (in a folder of its own) in the temporary folder '{Path.GetTempPath()}' and cannot ({inner.Message}). " +
        "Set the TMPDIR environment variable to a writable folder (a tmpfs such as /dev/shm, or a writable volume of the container), " +
        $"or set {nameof(SandboxOptions)}.{nameof(SandboxOptions.Transport)} to {nameof(SandboxTransport)}.{nameof(SandboxTransport.Tcp)}, which needs no folder.", inner);

    private static HostTransport ListenTcp(SandboxOptions options)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Windows would otherwise let another process bind the same port over ours.
            if (OperatingSystem.IsWindows()) listener.ExclusiveAddressUse = true;
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(MaxUnproven * 2);
            var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
            options.TcpListeningForTests?.Invoke(port);
            return new HostTransport(listener, null, null, port, RandomNumberGenerator.GetBytes(SecretBytes));
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Waits for the host's connection: for a Unix socket the first one (only the host can reach the private folder), for
    /// TCP the first that presents the secret; any other is closed, and the wait goes on. Fails when
    /// <paramref name="hostExited"/> completes first.
    /// </summary>
    public async Task<NetworkStream> AcceptAsync(Task hostExited, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var accept = _secret is null ? AcceptFirstAsync(stop.Token) : AcceptProvenAsync(_secret, stop.Token);
        try
        {
            if (await Task.WhenAny(accept, hostExited).ConfigureAwait(false) != accept)
            {
                throw new SandboxUnavailableException("The sandbox host exited before it connected.");
            }

            return await accept.ConfigureAwait(false);
        }
        finally
        {
            stop.Cancel();
            // Nothing else may connect once the host has (or the start failed).
            _listener.Dispose();
            _ = accept.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    private async Task<NetworkStream> AcceptFirstAsync(CancellationToken cancellationToken) =>
        new(await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false), ownsSocket: true);

    // Every connection proves itself on its own and at once, so connections that stay silent delay nobody: each has a
    // short deadline, and when too many wait the oldest is dropped to make room.
    private async Task<NetworkStream> AcceptProvenAsync(byte[] secret, CancellationToken cancellationToken)
    {
        var won = new TaskCompletionSource<NetworkStream>(TaskCreationOptions.RunContinuationsAsynchronously);
        var unproven = new LinkedList<Socket>();
        using var registration = cancellationToken.Register(() => won.TrySetCanceled(cancellationToken));
        _ = Task.Run(async () =>
        {
            try
            {
                while (!won.Task.IsCompleted)
                {
                    var socket = await _listener.AcceptAsync(cancellationToken).ConfigureAwait(false);
                    Socket? evicted = null;
                    LinkedListNode<Socket> node;
                    lock (unproven)
                    {
                        if (unproven.Count >= MaxUnproven)
                        {
                            evicted = unproven.First!.Value;
                            unproven.RemoveFirst();
                        }

                        node = unproven.AddLast(socket);
                    }

                    evicted?.Dispose();
                    _ = ProveAsync(socket, node);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                if (cancellationToken.IsCancellationRequested) won.TrySetCanceled(cancellationToken);
                else won.TrySetException(new SandboxUnavailableException("The sandbox's loopback listener failed: " + ex.Message));
            }
        }, CancellationToken.None);

        try
        {
            return await won.Task.ConfigureAwait(false);
        }
        finally
        {
            Socket[] left;
            lock (unproven)
            {
                left = [.. unproven];
                unproven.Clear();
            }

            foreach (var socket in left) socket.Dispose();
        }

        async Task ProveAsync(Socket socket, LinkedListNode<Socket> node)
        {
            var proven = false;
            var presented = new byte[SecretBytes];
            try
            {
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(ProofTimeout);
                var read = 0;
                while (read < presented.Length)
                {
                    var n = await socket.ReceiveAsync(presented.AsMemory(read), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                    if (n == 0) break;
                    read += n;
                }

                proven = read == presented.Length && CryptographicOperations.FixedTimeEquals(presented, secret);
                if (proven) socket.NoDelay = true;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
            finally
            {
                // What was presented may be the secret itself: it does not stay in memory.
                CryptographicOperations.ZeroMemory(presented);
                lock (unproven)
                {
                    if (node.List is not null) unproven.Remove(node);
                }

                if (!proven || !won.TrySetResult(new NetworkStream(socket, ownsSocket: true))) socket.Dispose();
            }
        }
    }

    /// <summary>Stops listening and removes the socket's folder.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        // The host has read the secret (or will never connect): it opens nothing any more.
        if (_secret is not null) CryptographicOperations.ZeroMemory(_secret);
        if (_socketDirectory is not null) RemoveDirectory(_socketDirectory);
    }

    private static void RemoveDirectory(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        HostProcess.PendingSocketDirectories.TryRemove(dir, out _);
    }
}
