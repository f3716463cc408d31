// The floor for a warm call: Pyodide called inside one Deno process, with no socket and no worker. The first
// stdin line is {"code", "name", "args"}; for each later line "N" it makes N promising calls with JSON in and out
// (as the sandbox's calls are) and answers "done".
const [indexDir] = Deno.args;
const { loadPyodide } = await import(new URL("file://" + indexDir + "/pyodide.mjs").href);
const py = await loadPyodide({ indexURL: indexDir + "/", stdout: () => {}, stderr: () => {} });
const encoder = new TextEncoder();
let call: any;
let args = "";
let pending = "";
for await (const chunk of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
  pending += chunk;
  let nl;
  while ((nl = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (call === undefined) {
      const setup = JSON.parse(line);
      py.runPython(setup.code);
      py.runPython(
        "import json as _j\n" +
          `def _bench_call(a):\n    a = _j.loads(a)\n    return _j.dumps(${setup.name}(*a[0], **a[1]))\n`,
      );
      call = py.globals.get("_bench_call");
      args = setup.args;
    } else {
      const n = Number(line);
      let last = "";
      for (let i = 0; i < n; i++) last = await call.callPromising(args);
      Deno.stdout.writeSync(encoder.encode(`done ${last}\n`));
    }
  }
}
