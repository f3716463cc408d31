using System.ClientModel;
using System.Text.Json;
using System.Text.Json.Nodes;
using AnyDefNet.Agents;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.AI;
using OpenAI;

namespace AnyDefNet.Tests;

/// <summary>The sandbox as a code-interpreter tool: the real OpenAI client and Microsoft.Extensions.AI's function invocation
/// against the fake chat server, which asks for run_python and receives the tool's result in its next request.</summary>
[Collection(SandboxCollection.Name)]
public sealed class AgentToolSpecs(SandboxFixture fixture)
{
    private RunPythonOptions Options => new() { Sandbox = fixture.Sandbox, Timeout = TimeSpan.FromSeconds(10) };

    internal static IChatClient ChatClient(FakeChatServer server) =>
        new ChatClientBuilder(new OpenAI.Chat.ChatClient("fake-model", new ApiKeyCredential("k"), new OpenAIClientOptions { Endpoint = server.BaseUrl }).AsIChatClient())
            .UseFunctionInvocation()
            .Build();

    // The tool message of the last request the server received: what the model was given back.
    internal static JsonObject ToolResult(FakeChatServer server, int request = -1)
    {
        var requests = server.Requests;
        var messages = requests[request < 0 ? requests.Count + request : request]["messages"]!.AsArray();
        var tool = messages.Last(m => m!["role"]!.ToString() == "tool")!;
        var content = tool["content"]!;
        var text = content is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.ToString())) : content.ToString();
        return JsonNode.Parse(text)!.AsObject();
    }

    private static async Task<JsonObject> AskAsync(FakeChatServer server, AIFunction tool, object arguments)
    {
        server.Then(FakeReply.ToolCall("call_" + Guid.NewGuid().ToString("N")[..8], "run_python", arguments)).Then(FakeReply.Text("done"));
        var before = server.RequestCount;
        var reply = await ChatClient(server).GetResponseAsync("Compute it.", new ChatOptions { Tools = [tool] });
        reply.Text.Should().Be("done");
        server.RequestCount.Should().Be(before + 2);
        return ToolResult(server);
    }

    [Fact]
    public async Task A_model_calls_run_python_and_gets_the_printed_output_and_the_last_value_back()
    {
        // Arrange
        await using var server = await FakeChatServer.StartAsync();
        var tool = AnyDefTools.RunPython(Options);

        // Act
        var result = await AskAsync(server, tool, new { code = "import math\nprint('hello', 6 * 7)\n{'pi': round(math.pi, 4), 'big': 2 ** 100}" });

        // Assert
        result["output"]!.ToString().Should().Be("hello 42\n");
        result["result"]!["pi"]!.GetValue<double>().Should().Be(3.1416);
        result["result"]!["big"]!.ToJsonString().Should().Be("1267650600228229401496703205376");
        result.ContainsKey("error").Should().BeFalse();
        var sent = server.Requests[0]["tools"]!.AsArray().Single()!["function"]!;
        sent["name"]!.ToString().Should().Be("run_python");
        sent["description"]!.ToString().Should().Contain("no network").And.Contain("standard library");
        sent["parameters"]!["required"]!.AsArray().Select(n => n!.ToString()).Should().Equal("code");
    }

    [Fact]
    public async Task A_value_that_is_not_JSON_comes_back_as_its_repr_and_an_error_as_its_traceback()
    {
        await using var server = await FakeChatServer.StartAsync();
        var tool = AnyDefTools.RunPython(Options);

        var repr = await AskAsync(server, tool, new { code = "class P:\n    def __repr__(self): return 'P(1)'\nP()" });
        var error = await AskAsync(server, tool, new { code = "def f(x):\n    return 1 / x\n\nf(0)" });
        var syntax = await AskAsync(server, tool, new { code = "def broken(:\n    pass" });

        repr["result_repr"]!.ToString().Should().Be("P(1)");
        repr.ContainsKey("result").Should().BeFalse();
        error["error"]!.ToString().Should().StartWith("Traceback (most recent call last):")
            .And.Contain("line 4").And.Contain("return 1 / x").And.EndWith("ZeroDivisionError: division by zero\n")
            .And.NotContain("_base.py").And.NotContain("anydef_run_cell");
        syntax["error"]!.ToString().Should().Contain("SyntaxError");
    }

    [Fact]
    public async Task Every_part_of_a_result_is_bounded()
    {
        var runner = new PythonRunner(Options with { MaxOutputCharacters = 100, MaxResultCharacters = 50, MaxErrorCharacters = 200 });

        var result = await runner.RunAsync("print('x' * 10_000)\nlist(range(10_000))");
        var error = await runner.RunAsync("raise ValueError('y' * 10_000)");

        result.Output.Should().HaveLength(100);
        result.OutputTruncated.Should().BeTrue();
        result.ResultJson.Should().BeNull();
        result.ResultText.Should().HaveLength(50).And.StartWith("[0, 1, 2");
        result.ResultTruncated.Should().BeTrue();
        error.Error!.Length.Should().BeLessThanOrEqualTo(200);
        error.Error.Should().EndWith("yyyy\n");
    }

    [Fact]
    public async Task Stateless_cells_start_with_an_empty_namespace()
    {
        var runner = new PythonRunner(Options);

        await runner.RunAsync("secret = 42");
        var next = await runner.RunAsync("'secret' in globals()");

        next.ResultJson.Should().Be("false");
    }

    [Fact]
    public async Task A_cell_that_ends_its_process_is_an_error_for_the_model_and_the_next_call_works()
    {
        await using var server = await FakeChatServer.StartAsync();
        var tool = AnyDefTools.RunPython(Options);

        var exit = await AskAsync(server, tool, new { code = "import js\njs.Deno.exit(0)" });
        var next = await AskAsync(server, tool, new { code = "sum(range(10))" });

        exit["error"]!.ToString().Should().Contain("SandboxError");
        next["result"]!.GetValue<int>().Should().Be(45);
    }

    [Fact]
    public async Task An_endless_loop_times_out_and_the_next_call_works()
    {
        await using var server = await FakeChatServer.StartAsync();
        var tool = AnyDefTools.RunPython(Options with { Timeout = TimeSpan.FromSeconds(1) });

        var loop = await AskAsync(server, tool, new { code = "while True:\n    pass" });
        var sleep = await AskAsync(server, tool, new { code = "import time\ntime.sleep(30)" });
        var next = await AskAsync(server, tool, new { code = "'still here'" });

        loop["error"]!.ToString().Should().StartWith("TimeoutError");
        sleep["error"]!.ToString().Should().StartWith("TimeoutError");
        next["result"]!.ToString().Should().Be("still here");
    }

    [Theory]
    [InlineData("import js\nawait js.fetch('http://example.com/')", "NotCapable: Requires net access")]
    [InlineData("open('/etc/passwd').read()", "FileNotFoundError")]
    [InlineData("import subprocess\nsubprocess.run(['ls'])", "does not support processes")]
    [InlineData("import js\njs.Deno.readTextFileSync('/etc/passwd')", "NotCapable: Requires read access")]
    [InlineData("import js\njs.eval('new Worker(\"data:,\")')", "does not allow nested workers")]
    [InlineData("import js\njs.close()", "SandboxError")]
    public async Task Hostile_cells_fail_inside_the_sandbox_and_the_tool_keeps_working(string code, string expected)
    {
        var runner = new PythonRunner(Options);

        var hostile = await runner.RunAsync(code);
        var next = await runner.RunAsync("1 + 1");

        hostile.Error.Should().NotBeNull().And.Contain(expected).And.NotContain("file:");
        next.ResultJson.Should().Be("2");
    }

    [Fact]
    public async Task A_cell_can_await_at_the_top_level()
    {
        var runner = new PythonRunner(Options);

        var result = await runner.RunAsync("import asyncio\nawait asyncio.sleep(0)\n'awaited'");

        result.Error.Should().BeNull();
        result.ResultJson.Should().Be("\"awaited\"");
    }
}
