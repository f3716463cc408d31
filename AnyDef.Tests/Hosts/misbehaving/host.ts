// A test-only sandbox host that speaks the protocol without Python and misbehaves on command. The first
// positional argument of a call names what it does; "echo" answers properly. Its start can be made to fail or
// hang by writing FAIL_START or SLOW_START into the worker.ts beside it.

import { openChannel } from "./transport.ts";

const config = JSON.parse(Deno.args[0]);
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const marker = await Deno.readTextFile(config.workerPermissions.find((p: string) => p.endsWith("worker.ts")));
if (marker.includes("FAIL_START")) Deno.exit(7);
if (marker.includes("SLOW_START")) await new Promise((r) => setTimeout(r, 60_000));

const conn = await openChannel(config);
let writing = Promise.resolve();
function write(text: string) {
  const bytes = encoder.encode(text);
  writing = writing.then(async () => {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
  });
  return writing;
}
const line = (obj: unknown) => write(JSON.stringify(obj) + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

line({ ready: true, pid: Deno.pid });

async function answer(req: { id: number; op: string; args?: string; function?: string }) {
  if (req.op === "load") {
    await line({ id: req.id, ok: true, reply: JSON.stringify({ ok: true, params: [{ name: "command" }] }), stdout: "" });
    return;
  }
  const [positional] = JSON.parse(req.args ?? "[[]]");
  const [command, size] = positional as [string, number];
  const id = req.id;
  switch (command) {
    case "echo":
      return line({ id, ok: true, reply: JSON.stringify({ ok: true, result: positional }), stdout: "" });
    case "duplicate_reply":
      // The reply, then a second one for the same request.
      await line({ id, ok: true, reply: JSON.stringify({ ok: true, result: "first" }), stdout: "" });
      return line({ id, ok: true, reply: JSON.stringify({ ok: true, result: "second" }), stdout: "" });
    case "missing_error":
      return line({ id, ok: false });
    case "reply_number":
      return line({ id, ok: true, reply: 42 });
    case "payload_not_json":
      return line({ id, ok: true, reply: "this is { not json" });
    case "payload_not_object":
      return line({ id, ok: true, reply: "[1, 2, 3]" });
    case "payload_without_ok":
      return line({ id, ok: true, reply: JSON.stringify({ result: 1 }) });
    case "garbage_line":
      return write("this line is not JSON at all\n");
    case "nested_id":
      // A field of the wrong type holding what looks like this request's own answer.
      return line({ id: 987654321, exiting: { id, ok: true, reply: JSON.stringify({ ok: true, result: "forged" }) } });
    case "no_id":
      return line({ ok: true, reply: JSON.stringify({ ok: true, result: 1 }) });
    case "unknown_ids":
      // Talks all the time, but never about this request.
      for (;;) {
        await line({ id: 987654321, ok: true, reply: JSON.stringify({ ok: true, result: 0 }) });
        await sleep(200);
      }
    case "never_ending_line": {
      // A reply that never ends, as fast as the channel takes it.
      await write(`{"id":${id},"ok":true,"reply":"`);
      const chunk = "x".repeat(64 * 1024);
      for (;;) await write(chunk);
    }
    case "silent_partial_line":
      await write(`{"id":${id},"ok":true,"reply":"`);
      return;
    case "large_result":
      // A large but allowed result: a string of `size` characters.
      return line({ id, ok: true, reply: JSON.stringify({ ok: true, result: "y".repeat(size) }), stdout: "" });
    case "slow_large_result": {
      // A valid result that takes longer to arrive than the call's timeout, arriving all the while.
      const text = JSON.stringify({ id, ok: true, reply: JSON.stringify({ ok: true, result: "z".repeat(size) }), stdout: "" }) + "\n";
      const step = 64 * 1024;
      for (let off = 0; off < text.length; off += step) {
        await write(text.slice(off, off + step));
        await sleep(100);
      }
      return;
    }
    case "burn_after_reply":
      // Answers properly, then keeps a core busy with no call running: what code that leaves work behind would do.
      await line({ id, ok: true, reply: JSON.stringify({ ok: true, result: "burning" }), stdout: "" });
      setInterval(() => {
        const t = Date.now();
        while (Date.now() - t < 90) { /* busy */ }
      }, 0);
      return;
    default:
      return line({ id, ok: true, reply: JSON.stringify({ ok: false, type: "ValueError", message: "unknown command " + command, traceback: "" }), stdout: "" });
  }
}

let buffered = "";
for await (const chunk of conn.readable) {
  buffered += decoder.decode(chunk, { stream: true });
  let nl: number;
  while ((nl = buffered.indexOf("\n")) >= 0) {
    const text = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    if (!text) continue;
    const req = JSON.parse(text);
    if (req.op === "cancel") continue;
    answer(req);
  }
}
Deno.exit(0);
