using System.Diagnostics;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Rate limits and server errors are retried by the client's pipeline; requests are counted at the server.</summary>
[Collection(SandboxCollection.Name)]
public sealed class ModelFaultSpecs : FakeModelSpecs
{
    public sealed record N(int X);

    [Fact]
    public async Task A_429_is_retried_after_theServers_Retry_After()
    {
        Server.Then(FakeReply.Error(429, "slow down") with { Headers = new Dictionary<string, string> { ["Retry-After"] = "1" } })
            .Then(FakeReply.Code("def twice(x):\n    return 2 * x"));
        var twice = AnyDef.DefineAsync<N, int>("twice", TestEnvironment.Unique("Twice"), TestEnvironment.Options(Server));
        var watch = Stopwatch.StartNew();

        var result = await twice(new N(4), default);

        result.Should().Be(8);
        Server.RequestCount.Should().Be(2);
        watch.Elapsed.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(0.9), "the retry waits for Retry-After");
    }

    [Fact]
    public async Task A_500_is_retried_and_then_succeeds()
    {
        Server.Then(FakeReply.Error(500, "boom")).Then(FakeReply.Error(503, "busy")).Then(FakeReply.Code("def thrice(x):\n    return 3 * x"));
        var thrice = AnyDef.DefineAsync<N, int>("thrice", TestEnvironment.Unique("Thrice"), TestEnvironment.Options(Server));

        (await thrice(new N(4), default)).Should().Be(12);
        Server.RequestCount.Should().Be(3);
    }

    [Fact]
    public async Task PersistentServer_errors_end_as_a_model_error_after_the_configured_retries()
    {
        Server.Always(FakeReply.Error(500, "down"));
        var options = TestEnvironment.Options(Server) with { ModelRetries = 1 };
        var fn = AnyDef.DefineAsync<N, int>("down", TestEnvironment.Unique("Down"), options);

        var error = (await fn.Invoking(f => f(new N(0), default)).Should().ThrowAsync<ModelException>()).Which;

        error.StatusCode.Should().Be(500);
        Server.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task A_model_that_does_not_answer_in_time_is_a_model_timeout_not_a_cancellation()
    {
        Server.Always(FakeReply.Code("def late(x):\n    return x") with { Delay = TimeSpan.FromSeconds(5) });
        var options = TestEnvironment.Options(Server) with { ModelTimeout = TimeSpan.FromMilliseconds(300), ModelRetries = 0 };
        var fn = AnyDef.DefineAsync<N, int>("late", TestEnvironment.Unique("Late"), options);

        var error = (await fn.Invoking(f => f(new N(0), default)).Should().ThrowAsync<ModelException>()).Which;

        error.Message.Should().Contain("did not answer within");
        error.Should().NotBeAssignableTo<OperationCanceledException>();
    }
}
