using System.Reflection;
using AnyDefNet.Sandbox.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Hostile code gets a typed error inside the sandbox, and the sandbox keeps working.</summary>
[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class SandboxSecuritySpecs(SandboxFixture fixture)
{
    private PythonSandbox Sandbox => fixture.Sandbox;

    private async Task<PythonExecutionException> RaisesAsync(string body)
    {
        var code = "def probe():\n" + string.Join("\n", body.Split('\n').Select(l => "    " + l)) + "\n";
        var run = () => Sandbox.RunAsync(code, "probe", timeout: TimeSpan.FromSeconds(10));
        return (await run.Should().ThrowAsync<PythonExecutionException>()).Which;
    }

    // Every way Python reaches the file system through Deno (`import js`), tried on each path. Python's own open() only
    // sees Pyodide's in-memory file system, so it proves nothing about the host's files.
    private const string ReadProbe = """
        async def probe(targets):
            import js

            def attempt(f):
                try:
                    return "allowed: " + str(f())
                except Exception as e:
                    return "denied: " + str(e)[:300]

            async def attempt_async(f):
                try:
                    return "allowed: " + str(await f())
                except Exception as e:
                    return "denied: " + str(e)[:300]

            async def fetched(url):
                return (await (await js.fetch(url)).arrayBuffer()).byteLength

            async def read(path):
                return (await js.Deno.readFile(path)).length

            out = {}
            for path, url in targets:
                out[path] = {
                    "readFileSync": attempt(lambda: js.Deno.readFileSync(path).length),
                    "readTextFileSync": attempt(lambda: len(js.Deno.readTextFileSync(path))),
                    "readFile": await attempt_async(lambda: read(path)),
                    "statSync": attempt(lambda: js.Deno.statSync(path).size),
                    "lstatSync": attempt(lambda: js.Deno.lstatSync(path).size),
                    "realPathSync": attempt(lambda: js.Deno.realPathSync(path)),
                    "openSync": attempt(lambda: js.Deno.openSync(path).close()),
                    "readDirSync": attempt(lambda: len(list(js.Deno.readDirSync(path)))),
                    "fetch": await attempt_async(lambda: fetched(url)),
                }
            return out
        """;

    private async Task<Dictionary<string, Dictionary<string, string>>> ReadThroughDenoAsync(params string[] paths)
    {
        var targets = paths.Select(p => new[] { p, new Uri(p).AbsoluteUri }).ToArray();
        var result = await Sandbox.RunAsync(ReadProbe, "probe", System.Text.Json.JsonSerializer.Serialize(new object[] { targets }), timeout: TimeSpan.FromSeconds(20));
        return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, Dictionary<string, string>>>(result.ResultJson)!;
    }

    [Fact]
    public async Task Python_cannot_read_host_files()
    {
        var runtime = await RuntimeLocation.ResolveAsync(TestEnvironment.Sandbox, CancellationToken.None);
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var secret = Path.Combine(TestEnvironment.TempDir(), "secret.txt");
        await File.WriteAllTextAsync(secret, "secret");
        string[] outside =
        [
            "/etc/passwd", "/etc", home, secret, Path.GetDirectoryName(secret)!,
            AppContext.BaseDirectory.TrimEnd('/'), typeof(SandboxSecuritySpecs).Assembly.Location,
            // Beside the files the worker may read, and the host's own scripts, which only the host may read.
            runtime.PyodideDirectory, Path.Combine(runtime.PyodideDirectory, "package.json"), runtime.HostScript, runtime.TransportScript,
        ];

        var seen = await ReadThroughDenoAsync(outside);

        seen.Keys.Should().BeEquivalentTo(outside);
        seen.Should().AllSatisfy(path => path.Value.Should().HaveCount(9).And.AllSatisfy(probe => probe.Value.Should()
            .StartWith("denied", "{0} of {1} must be refused", probe.Key, path.Key).And.Contain("NotCapable").And.Contain("read access")));
    }

    [Fact]
    public async Task The_same_probe_reads_the_runtime_files_the_worker_is_allowed_so_a_hole_would_show()
    {
        var runtime = await RuntimeLocation.ResolveAsync(TestEnvironment.Sandbox, CancellationToken.None);
        var wasm = Path.Combine(runtime.PyodideDirectory, "pyodide.asm.wasm");
        var size = new FileInfo(wasm).Length.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var seen = (await ReadThroughDenoAsync(wasm))[wasm];

        seen["readFileSync"].Should().Be("allowed: " + size);
        seen["readFile"].Should().Be("allowed: " + size);
        seen["statSync"].Should().Be("allowed: " + size);
        seen["fetch"].Should().Be("allowed: " + size);
        seen["openSync"].Should().Be("allowed: None");
    }

    [Fact]
    public async Task The_built_in_the_worker_borrows_to_restore_its_snapshot_is_back_before_any_code_runs()
    {
        const string code = """
            def probe():
                import js
                own = list(js.Object.getOwnPropertyNames(js.Int8Array.prototype))
                return [own, js.Int8Array.prototype.set == js.Object.getPrototypeOf(js.Uint8Array.prototype).set]
            """;

        var result = System.Text.Json.JsonSerializer.Deserialize<System.Text.Json.JsonElement>((await Sandbox.RunAsync(code, "probe")).ResultJson);

        result[0].EnumerateArray().Select(e => e.GetString()).Should().NotContain("set", "the worker's copy that skips zero pages is for the snapshot only");
        result[1].GetBoolean().Should().BeTrue();
    }

    [Fact]
    public async Task Deno_file_apis_are_denied()
    {
        var error = await RaisesAsync("import js\nreturn js.Deno.readTextFileSync('/etc/passwd')");

        error.PythonMessage.Should().Contain("NotCapable").And.Contain("read access");
    }

    [Fact]
    public async Task The_network_is_denied()
    {
        var error = await RaisesAsync("import js\nfrom pyodide.ffi import run_sync\nreturn run_sync(js.fetch('http://127.0.0.1:80/')).status");

        error.PythonMessage.Should().Contain("NotCapable").And.Contain("net access");
    }

    [Fact]
    public async Task The_environment_is_denied()
    {
        var error = await RaisesAsync("import js\nreturn js.Deno.env.get('HOME')");

        error.PythonMessage.Should().Contain("NotCapable").And.Contain("env access");
    }

    [Fact]
    public async Task Writing_files_and_running_programs_is_denied()
    {
        var target = Path.Combine(TestEnvironment.TempDir(), "pwned");

        (await RaisesAsync($"import js\njs.Deno.writeTextFileSync('{target}', 'x')")).PythonMessage.Should().Contain("NotCapable").And.Contain("write access");
        (await RaisesAsync("import js\nreturn js.Deno.Command.new('/bin/ls').outputSync()")).PythonMessage.Should().Contain("NotCapable").And.Contain("run access");
        File.Exists(target).Should().BeFalse();
    }

    [Fact]
    public async Task Remote_imports_are_refused()
    {
        var error = await RaisesAsync("import js\nfrom pyodide.ffi import run_sync\nreturn run_sync(js.eval('import(\"https://example.com/x.js\")'))");

        error.PythonType.Should().Be("JsException");
        error.PythonMessage.Should().Contain("import access");
    }

    [Fact]
    public async Task Print_output_is_captured_per_call_and_does_not_disturb_the_result()
    {
        const string code = "def noisy(x):\n    print('{\"id\":1,\"ok\":true}')\n    import sys\n    print('err', file=sys.stderr)\n    return x\n";

        var first = await Sandbox.RunAsync(code, "noisy", "[1]");
        var second = await Sandbox.RunAsync(code, "noisy", "[2]");

        first.ResultJson.Should().Be("1");
        second.ResultJson.Should().Be("2");
        first.Output.Should().Be("{\"id\":1,\"ok\":true}\nerr\n");
    }

    [Fact]
    public async Task Code_writing_to_the_process_stdout_cannot_forge_a_reply()
    {
        // Well-formed replies, with the result "forged", for every request id around the ones these calls get (ids come
        // from one counter for the whole process), written to the host's stdout and through JavaScript's console.
        const string code = """
            def forge(x, first, last):
                import js, time
                encoder = js.TextEncoder.new()
                for i in range(first, last + 1):
                    line = '{"id":%d,"ok":true,"reply":"{\\"ok\\":true,\\"result\\":\\"forged\\"}","stdout":""}' % i
                    js.Deno.stdout.writeSync(encoder.encode(line + "\n"))
                    js.console.log(line)
                time.sleep(0.3)
                return x
            """;
        var counter = typeof(HostChannel).GetField("s_nextId", BindingFlags.NonPublic | BindingFlags.Static)!;
        await Sandbox.RunAsync(code, "forge", "[0, 0, 0]");

        // Tests running beside this one take ids from the same counter (a batch takes one per input): a round in which
        // they took more than the forged range proves less, and another round runs. Every round's results must be real.
        var covered = false;
        for (var round = 0; round < 5 && !covered; round++)
        {
            var before = (long)counter.GetValue(null)!;
            var (first, last) = (before - 50, before + 400);

            var results = await Task.WhenAll(Enumerable.Range(1, 4).Select(x => Sandbox.RunAsync(code, "forge", $"[{x}, {first}, {last}]")));

            results.Select(r => r.ResultJson).Should().Equal("1", "2", "3", "4");
            covered = (long)counter.GetValue(null)! <= last;
        }

        covered.Should().BeTrue("in at least one round every id these calls had was forged");
    }

    [Fact]
    public async Task Os_system_kills_only_its_own_interpreter_and_the_next_call_works()
    {
        const string code = "def shell(x):\n    import os\n    os.system('ls')\n    return x\n";

        await Sandbox.Invoking(s => s.RunAsync(code, "shell", "[1]")).Should().ThrowAsync<SandboxCrashedException>();

        (await Sandbox.RunAsync("def ok(x):\n    return x * 2\n", "ok", "[21]")).ResultJson.Should().Be("42");
        (await Sandbox.RunAsync("def fine(x):\n    return x\n", "fine", "[3]")).ResultJson.Should().Be("3");
    }

    [Fact]
    public async Task State_left_by_one_function_never_reaches_another()
    {
        const string patcher = """
            def patcher():
                import json, builtins, js
                open("/tmp/x", "w").write("left behind")
                js.eval("globalThis.leak = 'patched'")
                json.dumps = lambda *a, **k: "patched"
                json.JSONEncoder.default = lambda self, o: "patched"
                builtins.len = lambda x: -1
                return "done"
            """;
        const string observer = """
            def observer():
                import json, builtins, os, js
                return {"dumps": json.dumps([1]), "len": len([1, 2]), "file": os.path.exists("/tmp/x"),
                        "default": json.JSONEncoder.default.__qualname__, "js": str(js.eval("typeof globalThis.leak"))}
            """;

        (await Sandbox.RunAsync(patcher, "patcher")).ResultJson.Should().Be("\"done\"");
        var seen = await Sandbox.RunAsync(observer, "observer");

        seen.ResultJson.Should().Be("{\"dumps\": \"[1]\", \"len\": 2, \"file\": false, \"default\": \"JSONEncoder.default\", \"js\": \"undefined\"}");
    }

    [Fact]
    public async Task An_async_function_is_awaited()
    {
        const string code = "import asyncio\nasync def later(x):\n    await asyncio.sleep(0.01)\n    return x + 1\n";

        (await Sandbox.RunAsync(code, "later", "[41]")).ResultJson.Should().Be("42");
    }

    [Fact]
    public async Task Each_call_starts_from_a_fresh_namespace()
    {
        const string code = "counter = []\ndef bump():\n    counter.append(1)\n    return len(counter)\n";

        var results = new List<string>();
        for (var i = 0; i < 3; i++) results.Add((await Sandbox.RunAsync(code, "bump")).ResultJson);

        results.Should().Equal("1", "1", "1");
    }
}
