using System.Text.Json;
using System.Text.Json.Nodes;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Functions declared by a Python signature string, called with JSON.</summary>
[Collection(SandboxCollection.Name)]
public sealed class SignatureSpecs : FakeModelSpecs
{
    [Fact]
    public async Task A_signature_string_function_takes_positional_and_keyword_json_arguments()
    {
        Server.Always(FakeReply.Code("def slugify(text, max_len=40):\n    return text.lower().replace(' ', '-')[:max_len]"));
        var slugify = AnyDef.FromSignature("def slugify(text: str, max_len: int = 40) -> str", TestEnvironment.Unique("Slugify"), TestEnvironment.Options(Server));

        var full = await slugify.InvokeAsync(new JsonArray("Hello Big World"));
        var cut = await slugify.InvokeAsync(new JsonArray("Hello Big World"), new JsonObject { ["max_len"] = 5 });
        var element = await slugify.InvokeAsync(JsonDocument.Parse("[\"A B\"]").RootElement);

        full!.GetValue<string>().Should().Be("hello-big-world");
        cut!.GetValue<string>().Should().Be("hello");
        element.GetString().Should().Be("a-b");
        Server.PromptOf(0).Should().Contain("def slugify(text: str, max_len: int = 40) -> str:");
        slugify.Spec.Parameters.Select(p => p.PythonName).Should().Equal("text", "max_len");
    }

    [Fact]
    public async Task Doctests_in_the_docstring_of_a_signature_string_function_are_checked()
    {
        Server.Then(FakeReply.Code("def double(x):\n    return x * 3")).Then(FakeReply.Code("def double(x):\n    return x * 2"));
        var docstring = TestEnvironment.Unique("Double it.") + "\n\n>>> double(21)\n42";
        var fn = AnyDef.FromSignature("def double(x: int) -> int", docstring, TestEnvironment.Options(Server));

        (await fn.InvokeAsync(new JsonArray(5)))!.GetValue<int>().Should().Be(10);
        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("Expected:\n    42\nGot:\n    63");
    }

    [Fact]
    public async Task Structured_json_results_come_back_as_json_nodes()
    {
        Server.Always(FakeReply.Code("def stats(xs):\n    return {'n': len(xs), 'sum': sum(xs), 'big': 2 ** 70}"));
        var stats = AnyDef.FromSignature("def stats(xs: list[int]) -> dict", TestEnvironment.Unique("Stats"), TestEnvironment.Options(Server));

        var result = (await stats.InvokeAsync(new JsonArray(new JsonArray(1, 2, 3))))!.AsObject();

        result["n"]!.GetValue<int>().Should().Be(3);
        result["sum"]!.GetValue<int>().Should().Be(6);
        result["big"]!.ToJsonString().Should().Be("1180591620717411303424");
    }

    [Theory]
    [InlineData("slugify(text)", "not a Python signature")]
    [InlineData("def f(*args) -> int", "plain named parameters")]
    [InlineData("def f(1x: int) -> int", "not a valid Python parameter name")]
    public void A_malformed_signature_is_rejected_with_what_to_write(string signature, string message)
    {
        var declare = () => AnyDef.FromSignature(signature, "doc");

        declare.Should().Throw<ArgumentException>().WithMessage($"*{message}*");
    }
}
