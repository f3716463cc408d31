using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Generated code is checked against the user's examples and repaired before it is used or stored.</summary>
[Collection(SandboxCollection.Name)]
public sealed class GenerationSpecs : FakeModelSpecs
{
    public sealed record AB(int A, int B);

    public sealed record Text(string Value);

    [Fact]
    public async Task Wrong_code_is_sent_back_with_the_failing_example_and_the_corrected_code_is_used()
    {
        Server.Then(FakeReply.Code("def add(a, b):\n    return a - b")).Then(FakeReply.Code("def add(a, b):\n    return a + b"));
        var store = TestEnvironment.TempDir();
        var add = AnyDef.Function<AB, int>("add", TestEnvironment.Unique("Add two numbers"), TestEnvironment.Options(Server) with { StoreDirectory = store },
            examples: [(new AB(1, 2), 3), (new AB(-5, 5), 0)]);

        var result = await add.InvokeAsync(new AB(20, 22));

        result.Should().Be(42);
        Server.RequestCount.Should().Be(2);
        Server.PromptOf(0).Should().Contain("assert add(1, 2) == 3").And.Contain("assert add(-5, 5) == 0");
        Server.PromptOf(1).Should().Contain("Wrong result: add(1, 2) returned -1, expected 3.");
        (await File.ReadAllTextAsync(Directory.GetFiles(store).Single())).Should().Contain("return a + b").And.NotContain("return a - b");
    }

    [Fact]
    public async Task Doctests_in_the_description_count_as_examples()
    {
        Server.Then(FakeReply.Code("def slug(value):\n    return value.lower()"))
            .Then(FakeReply.Code("import re\ndef slug(value):\n    return re.sub(r'[^a-z0-9]+', '-', value.lower()).strip('-')"));
        var description = TestEnvironment.Unique("Make a URL slug.") + "\n\n>>> slug(\"Hello, World!\")\n'hello-world'";
        var slug = AnyDef.DefineAsync<Text, string>("slug", description, TestEnvironment.Options(Server));

        (await slug(new Text("Ça va, Bob?"), default)).Should().Be("a-va-bob");

        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("example(s) in the docstring failed").And.Contain("'hello, world!'");
    }

    [Fact]
    public async Task A_result_that_does_not_fit_the_declared_type_is_a_check_failure()
    {
        Server.Then(FakeReply.Code("def count(value):\n    return str(len(value))")).Then(FakeReply.Code("def count(value):\n    return len(value)"));
        var count = AnyDef.DefineAsync<Text, int>("count", TestEnvironment.Unique("Count characters"), TestEnvironment.Options(Server),
            examples: [(new Text("abc"), 3)]);

        (await count(new Text("hello"), default)).Should().Be(5);
        Server.PromptOf(1).Should().Contain("returned \"3\", which is not a valid int");
    }

    [Fact]
    public async Task When_every_attempt_fails_the_error_carries_each_attempts_code_and_failure()
    {
        Server.Then(FakeReply.Code("def mul(a, b):\n    return a + b"))
            .Then(FakeReply.Code("def mul(a, b):\n    raise ValueError('nope')"))
            .Then(FakeReply.Text("no idea"));
        var store = TestEnvironment.TempDir();
        var mul = AnyDef.DefineAsync<AB, int>("mul", TestEnvironment.Unique("Multiply"), TestEnvironment.Options(Server) with { StoreDirectory = store },
            examples: [(new AB(3, 4), 12)]);

        var error = (await mul.Invoking(f => f(new AB(1, 1), default)).Should().ThrowAsync<CodeGenerationException>()).Which;

        error.Attempts.Should().HaveCount(3);
        error.Attempts[0].Code.Should().Contain("return a + b");
        error.Attempts[0].Failure.Should().Contain("returned 7, expected 12");
        error.Attempts[1].Failure.Should().Contain("ValueError: nope");
        error.Attempts[2].Code.Should().BeNull();
        Directory.GetFiles(store).Should().BeEmpty("failed code is never stored");
    }

    [Fact]
    public async Task Examples_are_part_of_the_spec()
    {
        var description = TestEnvironment.Unique("Add");
        var plain = AnyDef.Function<AB, int>("add", description);
        var withExamples = AnyDef.Function<AB, int>("add", description, examples: [(new AB(1, 1), 2)]);

        withExamples.Spec.Hash.Should().NotBe(plain.Spec.Hash);
        withExamples.Spec.Examples.Should().Equal("add(1, 1) == 2");
        await Task.CompletedTask;
    }
}
