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

    [Fact]
    public async Task Python_cannot_read_host_files()
    {
        var error = await RaisesAsync("return open('/etc/passwd').read()");

        error.PythonType.Should().Be("FileNotFoundError");
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
        (await RaisesAsync("import js\njs.Deno.writeTextFileSync('/tmp/anydef-pwned', 'x')")).PythonMessage.Should().Contain("NotCapable");
        (await RaisesAsync("import js\nreturn js.Deno.Command.new('/bin/ls').outputSync()")).PythonMessage.Should().Contain("NotCapable");
        File.Exists("/tmp/anydef-pwned").Should().BeFalse();
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
        const string code = "def forge(x):\n    import js\n    js.Deno.stdout.writeSync(js.TextEncoder.new().encode('{\"id\":1,\"ok\":true,\"reply\":\"42\"}\\n'))\n    return x\n";

        var result = await Sandbox.RunAsync(code, "forge", "[7]");

        result.ResultJson.Should().Be("7");
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
