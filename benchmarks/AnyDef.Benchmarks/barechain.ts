// The bridge's floor without any work: the same chain of threads a call crosses (the library's socket, the host's
// main thread, a worker woken through a SharedArrayBuffer with Atomics, and back), carrying 8 bytes and running no
// Python. Connects to the Unix socket named by its argument and echoes each 8-byte frame, plus one, through the worker.
const path = Deno.args[0];
const shared = new SharedArrayBuffer(16);
const box = new Int32Array(shared); // [0] requests, [1] replies, [2] reply value, [3] request value
const workerSource = `
self.onmessage = (e) => {
  const b = new Int32Array(e.data);
  let seen = 0;
  postMessage("ready");
  while (true) {
    const s = Atomics.load(b, 0);
    if (s === seen) { Atomics.wait(b, 0, s); continue; }
    seen = s;
    b[2] = b[3] + 1;
    Atomics.add(b, 1, 1);
    Atomics.notify(b, 1);
  }
};`;
const worker = new Worker(URL.createObjectURL(new Blob([workerSource], { type: "application/javascript" })), { type: "module" });
await new Promise((ready) => {
  worker.onmessage = ready;
  worker.postMessage(shared);
});
const conn = await Deno.connect({ transport: "unix", path });
const frame = new Uint8Array(8);
const view = new DataView(frame.buffer);
let replies = 0;
while (true) {
  let got = 0;
  while (got < 8) {
    const n = await conn.read(frame.subarray(got));
    if (n === null) Deno.exit(0);
    got += n;
  }
  box[3] = view.getInt32(0, true);
  Atomics.add(box, 0, 1);
  Atomics.notify(box, 0);
  while (Atomics.load(box, 1) === replies) {
    const w = Atomics.waitAsync(box, 1, replies);
    if (w.async) await w.value;
  }
  replies = Atomics.load(box, 1);
  view.setInt32(0, box[2], true);
  await conn.write(frame);
}
