using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
public sealed class CachingSpecs : FakeModelSpecs
{
    public sealed record N(int X);

    [Fact]
    public async Task Many_calls_make_one_model_request()
    {
        Server.Always(FakeReply.Code("def sq(x):\n    return x * x"));
        var options = TestEnvironment.Options(Server);
        var description = TestEnvironment.Unique("Square");

        for (var i = 0; i < 20; i++)
        {
            // A fresh delegate each time: the cache, not the delegate, holds the code.
            var sq = AnyDef.DefineAsync<N, int>("sq", description, options);
            (await sq(new N(i), default)).Should().Be(i * i);
        }

        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task Functions_with_the_same_name_and_different_descriptions_never_share_code()
    {
        Server.Then(FakeReply.Code("def f(x):\n    return x + 1")).Then(FakeReply.Code("def f(x):\n    return x - 1"));
        var options = TestEnvironment.Options(Server);
        var inc = AnyDef.DefineAsync<N, int>("f", TestEnvironment.Unique("Add one"), options);
        var dec = AnyDef.DefineAsync<N, int>("f", TestEnvironment.Unique("Subtract one"), options);

        (await inc(new N(10), default)).Should().Be(11);
        (await dec(new N(10), default)).Should().Be(9);

        Server.RequestCount.Should().Be(2);
    }

    [Fact]
    public async Task Thirty_two_concurrent_first_calls_make_exactly_one_model_request()
    {
        Server.Always(FakeReply.Code("def triple(x):\n    return 3 * x") with { Delay = TimeSpan.FromMilliseconds(300) });
        var triple = AnyDef.DefineAsync<N, int>("triple", TestEnvironment.Unique("Triple"), TestEnvironment.Options(Server));

        var results = await Task.WhenAll(Enumerable.Range(0, 32).Select(i => Task.Run(() => triple(new N(i), default))));

        results.Should().Equal(Enumerable.Range(0, 32).Select(i => 3 * i));
        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_failed_generation_is_not_cached()
    {
        Server.Then(FakeReply.Error(401, "bad key")).Then(FakeReply.Code("def neg(x):\n    return -x"));
        var neg = AnyDef.DefineAsync<N, int>("neg", TestEnvironment.Unique("Negate"), TestEnvironment.Options(Server) with { MaxAttempts = 1 });

        await neg.Invoking(f => f(new N(1), default)).Should().ThrowAsync<ModelException>();
        (await neg(new N(5), default)).Should().Be(-5);
        Server.RequestCount.Should().Be(2);
    }
}
