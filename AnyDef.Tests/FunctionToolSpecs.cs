using System.Text.Json.Nodes;
using AnyDefNet.Agents;
using AnyDefNet.Generated;
using AnyDefNet.Tests.Functions;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Tests;

/// <summary>Declared functions offered to a model as tools: the schema comes from the spec, the model's arguments are checked
/// against it, and the call runs the function's reviewed code in the real sandbox.</summary>
[Collection(SandboxCollection.Name)]
public sealed class FunctionToolSpecs : FakeModelSpecs
{
    public sealed record AddArgs(long A, long B);

    private static DeclaredFunction Declared(string name) =>
        DeclaredFunction.FindAll(typeof(Text).Assembly).Single(f => f.Spec.Name == name);

    private static JsonObject Schema(AIFunction tool) => JsonNode.Parse(tool.JsonSchema.GetRawText())!.AsObject();

    [Fact]
    public void The_schema_of_an_AnyDef_method_names_its_parameters_with_their_types()
    {
        // Act
        var price = Declared("price_order").AsAIFunction();
        var next = Declared("next_day").AsAIFunction();

        // Assert
        price.Name.Should().Be("price_order");
        price.Description.Should().Be("Price an order: each line costs quantity * unit_price; apply the discount of the code.");
        JsonNode.DeepEquals(Schema(price), JsonNode.Parse("""
            {"type":"object","properties":{
              "order":{"type":"object","properties":{
                "order_id":{"type":"string"},
                "lines":{"type":"array","items":{"type":"object","properties":{"item":{"type":"string"},"quantity":{"type":"integer"},"unit_price":{"type":"number"}},"required":["item","quantity","unit_price"],"additionalProperties":false}},
                "discount_code":{"type":["string","null"]}},"required":["order_id","lines","discount_code"],"additionalProperties":false},
              "discounts":{"type":"object","additionalProperties":{"type":"number"}}},
             "required":["order","discounts"],"additionalProperties":false}
            """)).Should().BeTrue(Schema(price).ToJsonString());
        JsonNode.DeepEquals(Schema(next)["properties"], JsonNode.Parse("""
            {"day":{"enum":["Monday","Tuesday","Wednesday"]},"holidays":{"type":"array","items":{"type":"string"}},"skip":{"type":["integer","null"]}}
            """)).Should().BeTrue(Schema(next).ToJsonString());
    }

    [Fact]
    public async Task A_model_calls_a_declared_function_and_gets_its_result_back()
    {
        // Arrange: the function's code comes from the generation server once; the chat server plays the agent's model
        Server.Then(FakeReply.Code("def add_numbers(a: int, b: int) -> int:\n    return a + b"));
        var add = AnyDef.Function<AddArgs, long>("add_numbers", TestEnvironment.Unique("Add a and b."), TestEnvironment.Options(Server));
        await using var chat = await FakeChatServer.StartAsync();
        chat.Then(FakeReply.ToolCall("call_1", "add_numbers", new { a = 2, b = 9_007_199_254_740_993 })).Then(FakeReply.Text("done"));

        // Act
        await AgentToolSpecs.ChatClient(chat).GetResponseAsync("Add them.", new ChatOptions { Tools = [add.AsAIFunction()] });

        // Assert
        chat.RequestCount.Should().Be(2);
        var sent = chat.Requests[0]["tools"]!.AsArray().Single()!["function"]!;
        sent["name"]!.ToString().Should().Be("add_numbers");
        sent["parameters"]!["properties"]!["a"]!["type"]!.ToString().Should().Be("integer");
        AgentToolResult(chat).Should().Be("9007199254740995");
    }

    [Fact]
    public async Task An_AnyDef_method_with_embedded_code_is_a_tool_of_its_assembly()
    {
        await using var chat = await FakeChatServer.StartAsync();
        chat.Then(FakeReply.ToolCall("call_1", "sum", new { numbers = new[] { 1, 2, 39 } })).Then(FakeReply.Text("done"));
        var tools = AnyDefTools.FromAssembly(typeof(Embedded).Assembly);

        await AgentToolSpecs.ChatClient(chat).GetResponseAsync("Sum them.", new ChatOptions { Tools = [.. tools] });

        tools.Select(t => t.Name).Should().Contain(["sum", "price_order", "next_day"]);
        AgentToolResult(chat).Should().Be("42");
    }

    [Fact]
    public async Task Arguments_that_do_not_fit_the_schema_go_back_to_the_model_and_run_nothing()
    {
        var add = AnyDef.Function<AddArgs, long>("add_numbers", TestEnvironment.Unique("Add a and b."), TestEnvironment.Options(Server));
        var tool = add.AsAIFunction();

        var result = await tool.InvokeAsync(new AIFunctionArguments { ["a"] = JsonNode.Parse("2.5"), ["c"] = 1 });

        var error = JsonNode.Parse(result!.ToString()!)!["error"]!.ToString();
        error.Should().Contain("a must be integer (was the number 2.5)").And.Contain("there is no parameter 'c'")
            .And.Contain("the argument 'b' is required").And.Contain("def add_numbers(a: int, b: int) -> int");
        Server.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task An_error_of_the_function_goes_back_to_the_model()
    {
        Server.Then(FakeReply.Code("def add_numbers(a: int, b: int) -> int:\n    if a < 0:\n        raise ValueError('a must not be negative')\n    return a + b"));
        var tool = AnyDef.Function<AddArgs, long>("add_numbers", TestEnvironment.Unique("Add a and b."), TestEnvironment.Options(Server)).AsAIFunction();

        var result = await tool.InvokeAsync(new AIFunctionArguments { ["a"] = -1, ["b"] = 1 });

        JsonNode.Parse(result!.ToString()!)!["error"]!.ToString().Should().Be("ValueError: a must not be negative");
    }

    private static string AgentToolResult(FakeChatServer chat)
    {
        var messages = chat.Requests[^1]["messages"]!.AsArray();
        var content = messages.Last(m => m!["role"]!.ToString() == "tool")!["content"]!;
        return content is JsonArray parts ? string.Concat(parts.Select(p => p!["text"]?.ToString())) : content.ToString();
    }
}
