using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class ErrorSpecs : FakeModelSpecs
{
    public sealed record N(int X);

    public sealed record Shade(ConsoleColor Colour);

    public sealed record D(double X);

    [Fact]
    public async Task A_missing_runtime_says_what_to_install_and_the_default_sandbox_keeps_working()
    {
        var options = TestEnvironment.Options(Server) with { Sandbox = TestEnvironment.Sandbox with { RuntimeDirectory = "/nonexistent/anydef-runtime" } };
        Server.Always(FakeReply.Code("def ident(x):\n    return x"));

        var run = () => AnyDef.RunAsync<N, int>("ident", TestEnvironment.Unique("Identity"), new N(1), options);

        var error = (await run.Should().ThrowAsync<SandboxUnavailableException>()).Which;

        error.Message.Should().Contain("npm ci").And.Contain("/nonexistent/anydef-runtime");
        (await AnyDef.RunAsync<N, int>("ident", TestEnvironment.Unique("Identity"), new N(7), TestEnvironment.Options(Server))).Should().Be(7);
    }

    [Fact]
    public async Task A_model_http_error_carries_the_status_and_the_model_and_the_next_call_works()
    {
        Server.Then(FakeReply.Error(401, "Incorrect API key provided")).Then(FakeReply.Code("def one(x):\n    return 1"));
        var one = AnyDef.DefineAsync<N, int>("one", TestEnvironment.Unique("One"), TestEnvironment.Options(Server));

        var error = (await one.Invoking(f => f(new N(0), default)).Should().ThrowAsync<ModelException>()).Which;

        error.StatusCode.Should().Be(401);
        error.Model.Should().Be("fake-model");
        error.Message.Should().Contain("HTTP 401").And.Contain("OPENAI_API_KEY");
        (await one(new N(0), default)).Should().Be(1);
    }

    [Fact]
    public async Task A_reply_without_code_is_retried_and_then_reported_with_every_reply_attached()
    {
        Server.Always(FakeReply.Text("I'm sorry, I can't help with that."));
        var fn = AnyDef.DefineAsync<N, int>("nothing", TestEnvironment.Unique("Nothing"), TestEnvironment.Options(Server) with { MaxAttempts = 2 });

        var error = (await fn.Invoking(f => f(new N(0), default)).Should().ThrowAsync<CodeGenerationException>()).Which;

        error.Replies.Should().Equal("I'm sorry, I can't help with that.", "I'm sorry, I can't help with that.");
        error.Message.Should().Contain("no Python function named `nothing`");
        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("The reply contains no Python function named `nothing`");
    }

    [Fact]
    public async Task Code_that_does_not_compile_is_sent_back_to_the_model_with_the_error()
    {
        Server.Then(FakeReply.Code("def fixme(x):\n    return x +")).Then(FakeReply.Code("def fixme(x):\n    return x + 1"));
        var fn = AnyDef.DefineAsync<N, int>("fixme", TestEnvironment.Unique("Fix me"), TestEnvironment.Options(Server));

        (await fn(new N(1), default)).Should().Be(2);

        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("SyntaxError");
    }

    [Fact]
    public async Task A_python_exception_carries_type_message_traceback_and_code_and_the_next_call_works()
    {
        const string code = "def inv(x):\n    return 1 // x";
        Server.Always(FakeReply.Code(code));
        var inv = AnyDef.DefineAsync<N, int>("inv", TestEnvironment.Unique("Inverse"), TestEnvironment.Options(Server));

        var error = (await inv.Invoking(f => f(new N(0), default)).Should().ThrowAsync<PythonExecutionException>()).Which;

        error.PythonType.Should().Be("ZeroDivisionError");
        error.PythonMessage.Should().Contain("division");
        error.PythonTraceback.Should().Contain("line 2, in inv").And.NotContain("_anydef");
        error.Code.Should().Contain("return 1 // x");
        (await inv(new N(1), default)).Should().Be(1);
    }

    [Fact]
    public async Task A_result_that_does_not_fit_the_result_type_carries_the_json_and_the_type()
    {
        Server.Always(FakeReply.Code("def words(x):\n    return {'not': 'a number'}"));
        var words = AnyDef.DefineAsync<N, int>("words", TestEnvironment.Unique("Words"), TestEnvironment.Options(Server));

        var error = (await words.Invoking(f => f(new N(0), default)).Should().ThrowAsync<ResultConversionException>()).Which;

        error.Json.Should().Be("{\"not\": \"a number\"}");
        error.TargetType.Should().Be<int>();
        error.Message.Should().Contain("Int32");
    }

    [Fact]
    public async Task A_result_python_cannot_encode_as_json_is_a_python_error_not_a_crash()
    {
        Server.Always(FakeReply.Code("def weird(x):\n    return object()"));
        var weird = AnyDef.DefineAsync<N, int>("weird", TestEnvironment.Unique("Weird"), TestEnvironment.Options(Server));

        var error = (await weird.Invoking(f => f(new N(0), default)).Should().ThrowAsync<AnyDefException>()).Which;

        error.Should().BeOfType<ResultConversionException>();
    }

    [Fact]
    public async Task An_argument_that_cannot_be_serialised_is_rejected_before_anything_runs()
    {
        Server.Always(FakeReply.Code("def shade(colour):\n    return colour.lower()"));
        var shade = AnyDef.DefineAsync<Shade, string>("shade", TestEnvironment.Unique("Shade"), TestEnvironment.Options(Server));

        var error = (await shade.Invoking(f => f(new Shade((ConsoleColor)99), default)).Should().ThrowAsync<ArgumentSerializationException>()).Which;

        error.ArgumentsType.Should().Be<Shade>();
        error.Path.Should().Be("colour");
        error.Message.Should().Contain("(ConsoleColor)99 is not a defined ConsoleColor");
        Server.RequestCount.Should().Be(0);
        (await shade(new Shade(ConsoleColor.Red), default)).Should().Be("red");
    }

    [Fact]
    public async Task A_function_name_that_is_not_a_python_identifier_is_rejected_at_declaration()
    {
        var declare = () => AnyDef.Define<N, int>("not-valid", "x");

        declare.Should().Throw<ArgumentException>().WithMessage("*not a valid Python function name*");
    }
}
