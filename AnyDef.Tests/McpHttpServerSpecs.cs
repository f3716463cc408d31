using System.Text.Json.Nodes;
using AnyDefNet.Agents;
using AnyDefNet.Tests.Functions;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace AnyDefNet.Tests;

/// <summary>The MCP server in an ASP.NET Core app (AnyDef.AspNetCore): a real Kestrel app on a free local port, made with the
/// lines docs/agents.md shows, driven over HTTP by the Model Context Protocol SDK's own client: run_python (with sessions),
/// the reviewed functions of a store folder and a declared function, each a tool.</summary>
/// <remarks>In the sandbox collection: a declared function runs on the process-wide configuration, which the hosting
/// tests set and take back (disposing their sandbox) while they run.</remarks>
[Collection(SandboxCollection.Name)]
public sealed class McpHttpServerSpecs : IAsyncLifetime
{
    private WebApplication _app = null!;
    private McpClient _client = null!;

    public async Task InitializeAsync()
    {
        var folder = TestEnvironment.TempDir();
        var store = new DirectoryCodeStore(folder);
        var reviewed = await store.WriteAsync(FunctionSpec.FromSignature("def add_money(a: float, b: float, places: int = 2) -> float", "Add two amounts and round them."),
            "def add_money(a, b, places=2):\n    return round(a + b, places)\n", "hand-written");
        await File.WriteAllTextAsync(reviewed, (await File.ReadAllTextAsync(reviewed)).Replace("# reviewed: false", "# reviewed: true"));
        await store.WriteAsync(FunctionSpec.FromSignature("def unreviewed(x: int) -> int", "Not read by a person yet."), "def unreviewed(x):\n    return x\n", "a model");

        // The lines of docs/agents.md ("The MCP server over HTTP"), with this test's folder and assembly, on a free local port.
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddMcpServer().WithHttpTransport().WithAnyDefTools(o =>
        {
            o.Store = folder;                                           // reviewed functions, each a tool
            o.Functions.Add(AnyDefTools.FromAssembly(typeof(Embedded).Assembly).Single(t => t.Name == "sum"));  // declared ones
        });
        _app = builder.Build();
        _app.MapMcp("/mcp");
        await _app.StartAsync();

        var address = _app.Urls.Single();
        _client = await McpClient.CreateAsync(new HttpClientTransport(new HttpClientTransportOptions { Endpoint = new Uri(address + "/mcp"), Name = "anydef" }));
    }

    public async Task DisposeAsync()
    {
        await _client.DisposeAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<JsonNode> CallAsync(string tool, Dictionary<string, object?> arguments)
    {
        var result = await _client.CallToolAsync(tool, arguments);
        var text = string.Concat(result.Content.OfType<TextContentBlock>().Select(b => b.Text));
        return JsonNode.Parse(text)!;
    }

    [Fact]
    public async Task An_MCP_client_over_HTTP_lists_run_python_the_reviewed_stored_functions_and_the_declared_ones()
    {
        // Act
        var tools = await _client.ListToolsAsync();

        // Assert
        tools.Select(t => t.Name).Should().BeEquivalentTo(["run_python", "add_money", "sum"]);
        var schema = JsonNode.Parse(tools.Single(t => t.Name == "add_money").JsonSchema.GetRawText())!;
        schema["required"]!.AsArray().Select(n => n!.ToString()).Should().Equal("a", "b");
    }

    [Fact]
    public async Task An_MCP_client_over_HTTP_runs_Python_in_a_session_a_stored_function_and_a_declared_one()
    {
        // Act
        var run = await CallAsync("run_python", new() { ["code"] = "print('hi')\nsum(i * i for i in range(10))" });
        await CallAsync("run_python", new() { ["code"] = "x = 41", ["session"] = "s" });
        var kept = await CallAsync("run_python", new() { ["code"] = "x + 1", ["session"] = "s" });
        var add = await CallAsync("add_money", new() { ["a"] = 0.1, ["b"] = 0.2 });
        var sum = await CallAsync("sum", new() { ["numbers"] = new[] { 1, 2, 39 } });

        // Assert
        run["output"]!.ToString().Should().Be("hi\n");
        run["result"]!.GetValue<int>().Should().Be(285);
        kept["result"]!.GetValue<int>().Should().Be(42);
        add.ToJsonString().Should().Be("0.3");
        sum.ToJsonString().Should().Be("42");
    }

    [Fact]
    public void A_server_with_nothing_to_serve_is_refused_when_it_is_configured()
    {
        var services = new ServiceCollection();

        var act = () => services.AddMcpServer().WithHttpTransport().WithAnyDefTools(o => o.RunPython = false);

        act.Should().Throw<ArgumentException>().WithMessage("There is nothing to serve*");
    }
}
