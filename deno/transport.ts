// How the host reaches the library: the private Unix socket it created, or (where Deno has no Unix sockets, or
// when the library chose it) a listener on 127.0.0.1 that accepts only a connection whose first bytes are a
// one-time secret. The secret arrives on standard input, which other processes cannot read (unlike the command
// line and the environment); the host reads it before any untrusted code exists and then closes its stdin.

export type ChannelConfig = {
  socket?: string;
  port?: number;
};

const SECRET_BYTES = 32;

async function readSecret(): Promise<Uint8Array> {
  const secret = new Uint8Array(SECRET_BYTES);
  let read = 0;
  while (read < secret.length) {
    const n = await Deno.stdin.read(secret.subarray(read));
    if (n === null) throw new Error("the library's one-time secret did not arrive on standard input");
    read += n;
  }
  return secret;
}

/** Connects to the library and proves who we are; the connection is the protocol channel. */
export async function openChannel(config: ChannelConfig): Promise<Deno.Conn> {
  if (!config.port) return await Deno.connect({ transport: "unix", path: config.socket! });
  const secret = await readSecret();
  try {
    Deno.stdin.close();
  } catch {
    // already closed
  }
  const conn = await Deno.connect({ transport: "tcp", hostname: "127.0.0.1", port: config.port });
  conn.setNoDelay(true);
  let off = 0;
  while (off < secret.length) off += await conn.write(secret.subarray(off));
  secret.fill(0);
  return conn;
}
