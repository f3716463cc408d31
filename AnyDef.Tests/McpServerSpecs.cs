using System.Text.Json.Nodes;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AnyDefNet.Tests;

/// <summary><c>anydef mcp</c> started as a child process and driven over stdio by the Model Context Protocol SDK's own client:
/// run_python (with sessions) and the reviewed functions of a store folder, each a tool.</summary>
public sealed class McpServerSpecs : IAsyncLifetime
{
    private string _store = null!;
    private McpClient _client = null!;

    public async Task InitializeAsync()
    {
        _store = TestEnvironment.TempDir();
        var store = new DirectoryCodeStore(_store);
        var reviewed = await store.WriteAsync(FunctionSpec.FromSignature("def add_money(a: float, b: float, places: int = 2) -> float", "Add two amounts and round them."),
            "def add_money(a, b, places=2):\n    return round(a + b, places)\n", "hand-written");
        await File.WriteAllTextAsync(reviewed, (await File.ReadAllTextAsync(reviewed)).Replace("# reviewed: false", "# reviewed: true"));
        await store.WriteAsync(FunctionSpec.FromSignature("def unreviewed(x: int) -> int", "Not read by a person yet."), "def unreviewed(x):\n    return x\n", "a model");
        var transport = new StdioClientTransport(new StdioClientTransportOptions
        {
            Name = "anydef",
            Command = "dotnet",
            Arguments = [AnyDefCli.Dll, "mcp", "--store", _store, "--timeout", "5"],
            EnvironmentVariables = new Dictionary<string, string?> { ["OPENAI_API_KEY"] = null, ["OPENAI_BASE_URL"] = null, ["ANYDEF_STORE_DIR"] = null },
        });
        _client = await McpClient.CreateAsync(transport);
    }

    public async Task DisposeAsync() => await _client.DisposeAsync();

    private async Task<JsonNode> CallAsync(string tool, Dictionary<string, object?> arguments)
    {
        var result = await _client.CallToolAsync(tool, arguments);
        var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task An_MCP_client_lists_run_python_and_the_reviewed_functions_of_the_store()
    {
        // Act
        var tools = await _client.ListToolsAsync();

        // Assert
        tools.Select(t => t.Name).Should().BeEquivalentTo(["run_python", "add_money"]);
        var add = tools.Single(t => t.Name == "add_money");
        add.Description.Should().Be("Add two amounts and round them.");
        var schema = JsonNode.Parse(add.JsonSchema.GetRawText())!;
        schema["properties"]!["places"]!["type"]!.ToString().Should().Be("integer");
        schema["required"]!.AsArray().Select(n => n!.ToString()).Should().Equal("a", "b");
    }

    [Fact]
    public async Task An_MCP_client_runs_Python_and_a_stored_function()
    {
        var run = await CallAsync("run_python", new() { ["code"] = "print('hi')\nsum(i * i for i in range(10))" });
        var add = await CallAsync("add_money", new() { ["a"] = 0.1, ["b"] = 0.2 });

        run["output"]!.ToString().Should().Be("hi\n");
        run["result"]!.GetValue<int>().Should().Be(285);
        add.ToJsonString().Should().Be("0.3");
    }

    [Fact]
    public async Task A_session_keeps_its_variables_and_a_cell_that_ends_its_process_leaves_the_server_working()
    {
        await CallAsync("run_python", new() { ["code"] = "x = 41", ["session"] = "s" });
        var kept = await CallAsync("run_python", new() { ["code"] = "x + 1", ["session"] = "s" });
        var exit = await CallAsync("run_python", new() { ["code"] = "import js\njs.Deno.exit(0)", ["session"] = "s" });
        var ended = await CallAsync("run_python", new() { ["code"] = "x", ["session"] = "s" });
        var loop = await CallAsync("run_python", new() { ["code"] = "while True:\n    pass" });
        var next = await CallAsync("run_python", new() { ["code"] = "'alive'" });

        kept["result"]!.GetValue<int>().Should().Be(42);
        exit["error"]!.ToString().Should().Contain("SandboxError");
        ended["error"]!.ToString().Should().Contain("The Python session 's' has ended");
        loop["error"]!.ToString().Should().StartWith("TimeoutError");
        next["result"]!.ToString().Should().Be("alive");
    }
}
