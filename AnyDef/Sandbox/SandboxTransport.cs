namespace AnyDefNet;

/// <summary>The private channel between the library and each sandbox host process.</summary>
public enum SandboxTransport
{
    /// <summary>Loopback TCP on Windows (where Deno has no Unix sockets), a Unix socket elsewhere.</summary>
    Automatic,

    /// <summary>A Unix domain socket in a private temporary folder, deleted once the host has connected. Not on Windows.</summary>
    UnixSocket,

    /// <summary>A listener on 127.0.0.1 and a free port that accepts exactly one connection: the one that first presents a
    /// one-time secret the host received on its standard input. Deno's network permission names only that address and port.</summary>
    Tcp,
}
