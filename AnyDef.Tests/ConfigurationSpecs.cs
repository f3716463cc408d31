using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.Caching.Memory;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
public sealed class ConfigurationSpecs : FakeModelSpecs
{
    public sealed record N(int X);

    [Fact]
    public async Task A_function_declared_without_options_runs_with_what_the_application_configures_later()
    {
        // Arrange: declared before any configuration exists
        Server.Always(FakeReply.Code("def cube(x):\n    return x ** 3"));
        var cube = AnyDef.DefineAsync<N, int>("cube", TestEnvironment.Unique("Cube"));
        var configured = TestEnvironment.Options(Server);

        try
        {
            // Act
            AnyDef.Configure(configured);
            var result = await cube(new N(3), default);

            // Assert
            result.Should().Be(27);
            Server.RequestCount.Should().Be(1);

            // Configuring anew applies from the next call: frozen with an empty store and cache finds nothing.
            AnyDef.Configure(configured with { Frozen = true, Cache = new MemoryCache(new MemoryCacheOptions()), StoreDirectory = TestEnvironment.TempDir() });
            await cube.Invoking(f => f(new N(2), default)).Should().ThrowAsync<FunctionNotStoredException>();
            Server.RequestCount.Should().Be(1);
        }
        finally
        {
            AnyDef.Configure(AnyDefOptions.Default);
        }
    }

    [Fact]
    public void Configure_refuses_invalid_options_and_keeps_the_previous_ones()
    {
        var before = AnyDef.CurrentOptions;

        var act = () => AnyDef.Configure(new AnyDefOptions { MaxAttempts = 0 });

        act.Should().Throw<ArgumentException>().WithMessage("*MaxAttempts*");
        AnyDef.CurrentOptions.Should().BeSameAs(before);
    }

    [Fact]
    public void A_function_given_its_own_options_keeps_them()
    {
        var own = TestEnvironment.Options(Server);
        var function = AnyDef.Function<N, int>("keep", "Keep.", own);
        try
        {
            AnyDef.Configure(own with { Model = "another" });
            function.Options.Should().BeSameAs(own);
        }
        finally
        {
            AnyDef.Configure(AnyDefOptions.Default);
        }
    }
}
