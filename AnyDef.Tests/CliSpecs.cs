using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>The anydef command: output and exit codes exactly as documented, so scripts can rely on them.</summary>
[Collection(SandboxCollection.Name)]
public sealed class CliSpecs : FakeModelSpecs
{
    private readonly string _dir = TestEnvironment.TempDir();
    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await File.WriteAllTextAsync(Path.Combine(_dir, "inv.py"), "def inv(x):\n    print('noise on stdout')\n    return 1 / x\n");
    }

    private string CodeFile => Path.Combine(_dir, "inv.py");

    private Dictionary<string, string?> Model() => new() { ["OPENAI_BASE_URL"] = Server.BaseUrl.ToString(), ["OPENAI_API_KEY"] = "test-key", ["ANYDEF_MODEL"] = "fake-model" };

    [Fact]
    public async Task Exec_prints_the_result_as_json_and_exits_0()
    {
        var result = await AnyDefCli.RunAsync(["exec", "--code", CodeFile, "--function", "inv", "--args", "[4]"]);

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Should().Be("0.25\n", "the function's own print output never reaches stdout");
    }

    [Fact]
    public async Task Exec_of_code_that_raises_exits_3_with_type_and_message_on_stderr()
    {
        var result = await AnyDefCli.RunAsync(["exec", "--code", CodeFile, "--function", "inv", "--args", "[0]"]);

        result.ExitCode.Should().Be(3);
        result.StandardOutput.Should().BeEmpty();
        result.StandardError.Should().Be("error: ZeroDivisionError: division by zero\n");
    }

    [Fact]
    public async Task Exec_batch_prints_one_line_per_input_in_order()
    {
        var batch = Path.Combine(_dir, "inputs.jsonl");
        await File.WriteAllLinesAsync(batch, ["[1]", "[0]", "", "[8]"]);

        var result = await AnyDefCli.RunAsync(["exec", "--code", CodeFile, "--function", "inv", "--batch", batch]);

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "{\"ok\":true,\"result\":1.0}",
            "{\"ok\":false,\"error\":{\"type\":\"ZeroDivisionError\",\"message\":\"division by zero\"}}",
            "{\"ok\":true,\"result\":0.125}");
    }

    [Theory]
    [InlineData(null, 1)]
    [InlineData("2", 2)]
    public async Task Exec_batch_runs_in_one_process_unless_given_more(string? processes, int expected)
    {
        // Each interpreter draws its own token once, so the tokens printed tell how many processes ran the batch.
        var code = Path.Combine(_dir, "token.py");
        await File.WriteAllTextAsync(code, """
            def token(seconds):
                import js, time
                if not hasattr(js.globalThis, "cli_token"):
                    js.globalThis.cli_token = str(js.Math.random())
                time.sleep(seconds)
                return js.globalThis.cli_token
            """);
        var batch = Path.Combine(_dir, "tokens.jsonl");
        // Inputs of 50 ms, 6 s in all: long enough for a second process to start and take inputs where one is allowed.
        await File.WriteAllLinesAsync(batch, Enumerable.Repeat("[0.05]", 120));
        string[] more = processes is null ? [] : ["--processes", processes];

        var result = await AnyDefCli.RunAsync(["exec", "--code", code, "--function", "token", "--batch", batch, .. more]).WaitAsync(TimeSpan.FromSeconds(300));

        result.ExitCode.Should().Be(0, result.StandardError);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(120);
        lines.Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["result"]!.GetValue<string>()).Distinct().Should().HaveCount(expected);
    }

    [Fact]
    public async Task Exec_batch_with_a_batch_timeout_gives_every_input_not_done_by_then_its_error_line_and_exits_0()
    {
        var nap = Path.Combine(_dir, "nap.py");
        await File.WriteAllTextAsync(nap, "def nap(s):\n    import time\n    time.sleep(s)\n    return s\n");
        var batch = Path.Combine(_dir, "naps.jsonl");
        // Sent together (one chunk): the inputs before the one that outlasts the batch finish, and keep their results.
        await File.WriteAllLinesAsync(batch, [.. Enumerable.Repeat("[0]", 3), "[600]", "[0]"]);

        var result = await AnyDefCli.RunAsync(["exec", "--code", nap, "--function", "nap", "--batch", batch, "--timeout", "900", "--batch-timeout", "20"])
            .WaitAsync(TimeSpan.FromSeconds(300));

        result.ExitCode.Should().Be(0, result.StandardError);
        const string late = "{\"ok\":false,\"error\":{\"type\":\"BatchTimeout\",\"message\":\"the batch did not finish within --batch-timeout (20 s); this input was not run or did not finish\"}}";
        result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal([.. Enumerable.Repeat("{\"ok\":true,\"result\":0}", 3), late, late]);
    }

    [Fact]
    public async Task Exec_that_times_out_exits_4()
    {
        var loop = Path.Combine(_dir, "loop.py");
        await File.WriteAllTextAsync(loop, "def spin():\n    while True:\n        pass\n");

        var result = await AnyDefCli.RunAsync(["exec", "--code", loop, "--function", "spin", "--args", "[]", "--timeout", "0.5"]);

        result.ExitCode.Should().Be(4);
        result.StandardError.Should().StartWith("error: The Python function 'spin' did not finish within 0.5 s");
    }

    [Theory]
    [InlineData("--function", "inv")]
    [InlineData("--function", "inv", "--args", "[1", "--code", "X")]
    [InlineData("--function", "inv", "--args", "{}", "--code", "X")]
    [InlineData("--function", "inv", "--args", "[1]", "--batch", "b.jsonl", "--code", "X")]
    public async Task Usage_errors_exit_1(params string[] args)
    {
        var result = await AnyDefCli.RunAsync(["exec", .. args.Select(a => a == "X" ? CodeFile : a)]);

        result.ExitCode.Should().Be(1);
        result.StandardOutput.Should().NotContain("\"ok\"");
    }

    [Fact]
    public async Task A_missing_sandbox_runtime_exits_5_and_says_what_to_install()
    {
        var result = await AnyDefCli.RunAsync(["exec", "--code", CodeFile, "--function", "inv", "--args", "[1]"],
            new Dictionary<string, string?> { ["ANYDEF_RUNTIME_DIR"] = "/nonexistent/runtime" });

        result.ExitCode.Should().Be(5);
        result.StandardError.Should().Contain("npm ci");
    }

    [Fact]
    public async Task Run_generates_stores_and_prints_the_result_then_runs_frozen_from_the_store()
    {
        Server.Always(FakeReply.Code("def add(a, b=10):\n    return a + b"));
        var store = Path.Combine(_dir, "store");
        var doc = TestEnvironment.Unique("Add two numbers.");

        var first = await AnyDefCli.RunAsync(["run", "def add(a: int, b: int = 10) -> int", "--doc", doc, "--args", "[1]", "--kwargs", "{\"b\": 2}", "--store", store], Model());
        var file = Directory.GetFiles(store, "add.*.py").Single();
        await File.WriteAllTextAsync(file, (await File.ReadAllTextAsync(file)).Replace("# reviewed: false", "# reviewed: true", StringComparison.Ordinal));
        var frozen = await AnyDefCli.RunAsync(["run", "def add(a: int, b: int = 10) -> int", "--doc", doc, "--args", "[5]", "--store", store, "--frozen"]);

        first.ExitCode.Should().Be(0, first.StandardError);
        first.StandardOutput.Should().Be("3\n");
        frozen.ExitCode.Should().Be(0, frozen.StandardError);
        frozen.StandardOutput.Should().Be("15\n");
        Server.RequestCount.Should().Be(1);
        Directory.GetFiles(store, "add.*.py").Should().ContainSingle();
    }

    [Fact]
    public async Task Run_exits_2_when_generation_fails_or_frozen_code_is_missing()
    {
        Server.Always(FakeReply.Text("Sorry."));

        var failed = await AnyDefCli.RunAsync(["run", "def nothing() -> int", "--doc", TestEnvironment.Unique("Nothing"), "--args", "[]"], Model());
        var missing = await AnyDefCli.RunAsync(["run", "def absent() -> int", "--doc", "Absent", "--store", _dir, "--frozen"]);

        failed.ExitCode.Should().Be(2);
        failed.StandardError.Should().StartWith("error: The model 'fake-model' gave no usable code for 'nothing'");
        missing.ExitCode.Should().Be(2);
        missing.StandardError.Should().Contain("Frozen mode is on");
    }

    [Fact]
    public async Task Run_with_debug_prints_the_code_on_stderr_and_only_the_result_on_stdout()
    {
        Server.Always(FakeReply.Code("def neg(x):\n    return -x"));

        var result = await AnyDefCli.RunAsync(["run", "def neg(x: int) -> int", "--doc", TestEnvironment.Unique("Negate"), "--args", "[3]", "--debug"], Model());

        result.ExitCode.Should().Be(0);
        result.StandardOutput.Should().Be("-3\n");
        result.StandardError.Should().Contain("[anydef] neg: code generated by fake-model").And.Contain("return -x");
    }

    [Fact]
    public async Task Doctor_checks_each_part_and_reports_the_sandbox_round_trip()
    {
        var result = await AnyDefCli.RunAsync(["doctor", "--store", _dir], Model());

        result.ExitCode.Should().Be(0, result.StandardOutput);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Should().Contain(l => l.StartsWith("OK   deno     deno 2.9.5", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("OK   pyodide  pyodide 314.0.7", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("OK   sandbox  first call", StringComparison.Ordinal) && l.Contains("round trip p50"));
        lines.Should().Contain(l => l.StartsWith("OK   model", StringComparison.Ordinal) && l.Contains("/models reachable"));
        lines.Should().Contain(l => l.StartsWith("OK   store", StringComparison.Ordinal));
        lines.Should().Contain(l => l.StartsWith("OK   channel  a private Unix socket per host", StringComparison.Ordinal));
        lines.Should().Contain(Sandbox.Internal.OsSandbox.Bwrap is null
            ? l => l.StartsWith("WARN os-wall  off: install bubblewrap", StringComparison.Ordinal)
            : l => l.StartsWith("OK   os-wall  on:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Doctor_reports_an_unreachable_modelServer_with_the_fix()
    {
        var result = await AnyDefCli.RunAsync(["doctor"], new Dictionary<string, string?> { ["OPENAI_BASE_URL"] = TestEnvironment.UnreachableUrl("v1") });

        result.ExitCode.Should().Be(2);
        result.StandardOutput.Should().Contain("FAIL model").And.Contain("check OPENAI_BASE_URL");
    }

    [Fact]
    public async Task Store_lists_shows_and_clears_only_when_confirmed()
    {
        var store = new DirectoryCodeStore(Path.Combine(_dir, "listed"));
        await store.WriteAsync(FunctionSpec.FromSignature("def twice(x: int) -> int", "Twice."), "def twice(x):\n    return 2 * x\n", "hand-written");

        var list = await AnyDefCli.RunAsync(["store", "list", "--store", store.Directory]);
        var show = await AnyDefCli.RunAsync(["store", "show", "twice", "--store", store.Directory]);
        var unknown = await AnyDefCli.RunAsync(["store", "show", "thrice", "--store", store.Directory]);
        var refused = await AnyDefCli.RunAsync(["store", "clear", "--store", store.Directory]);
        var filesAfterRefusal = Directory.GetFiles(store.Directory).Length;
        var cleared = await AnyDefCli.RunAsync(["store", "clear", "--store", store.Directory, "--yes"]);

        list.ExitCode.Should().Be(0);
        list.StandardOutput.Should().StartWith("twice\t").And.Contain("unreviewed\thand-written");
        show.StandardOutput.Should().Contain("# anydef: twice").And.EndWith("return 2 * x\n");
        unknown.ExitCode.Should().Be(1);
        refused.ExitCode.Should().Be(1);
        filesAfterRefusal.Should().Be(1);
        cleared.ExitCode.Should().Be(0);
        Directory.GetFiles(store.Directory).Should().BeEmpty();
    }
}
