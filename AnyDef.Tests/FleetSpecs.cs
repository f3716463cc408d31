using System.Globalization;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace AnyDefNet.Tests;

/// <summary>Instances of one application, as separate processes, sharing code and a generation lock on a real Garnet server.</summary>
public sealed class FleetSpecs(GarnetFixture garnet, ITestOutputHelper output) : FakeModelSpecs, IClassFixture<GarnetFixture>
{
    private const string Square = "def square(x):\n    return x * x";

    private Dictionary<string, string> Settings(string description, string? redis = null) => new()
    {
        ["AnyDef__Endpoint"] = Server.BaseUrl.ToString(),
        ["AnyDef__ApiKey"] = "test-key",
        ["AnyDef__Model"] = "fake-model",
        ["AnyDef__UseDistributedCache"] = "true",
        // Long enough that a loaded machine does not delay the holder's renewal (a third of it) past the expiry.
        ["AnyDef__GenerationLockExpiry"] = "00:00:10",
        ["AnyDef__Sandbox__SpareProcesses"] = "0",
        ["Fleet__Redis"] = redis ?? garnet.Configuration,
        ["Fleet__Description"] = description,
    };

    [Fact]
    public async Task Two_instances_calling_a_new_function_at_the_same_moment_make_one_model_request()
    {
        // Arrange: the model takes a moment, so the second instance arrives while the first generates
        Server.Always(FakeReply.Code(Square) with { Delay = TimeSpan.FromSeconds(1) });
        // A lock that outlives the test: the waiter can only learn of the result from the holder's announcement, not the expiry.
        var settings = new Dictionary<string, string>(Settings(TestEnvironment.Unique("Square the number."))) { ["AnyDef__GenerationLockExpiry"] = "00:10:00" };
        await using var first = FleetInstance.Start(settings);
        await using var second = FleetInstance.Start(settings);
        await Task.WhenAll(first.WaitForLineAsync("ready"), second.WaitForLineAsync("ready"));

        // Act
        await Task.WhenAll(first.GoAsync(), second.GoAsync());
        var results = await Task.WhenAll(first.WaitForLineAsync("result:"), second.WaitForLineAsync("result:"));

        // Assert
        results.Should().AllSatisfy(r => r.Should().StartWith("result: 49 "));
        results.Select(r => r.Split("source: ")[1]).Should().BeEquivalentTo(["model", "distributed"]);
        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task When_the_instance_holding_the_lock_dies_mid_generation_another_takes_over_after_the_lock_expires()
    {
        // Arrange: the first request never gets an answer; the next one does
        Server.Then(FakeReply.Code(Square) with { Delay = TimeSpan.FromMinutes(10) }).Always(FakeReply.Code(Square));
        var settings = Settings(TestEnvironment.Unique("Square the number."));
        // The holder keeps a spare sandbox process, to show that a dead instance leaves none behind.
        await using var holder = FleetInstance.Start(new Dictionary<string, string>(settings) { ["AnyDef__Sandbox__SpareProcesses"] = "1" });
        await holder.WaitForLineAsync("ready");
        await holder.GoAsync();
        await WaitUntil(() => Server.RequestCount == 1, "the holder's model request");
        await using var waiter = FleetInstance.Start(settings);
        await waiter.WaitForLineAsync("ready");
        await waiter.GoAsync();
        await waiter.WaitForLineAsync("waiting for its result");
        var holderSandbox = ProcessTree.Descendants(holder.ProcessId, "--no-prompt");

        // Act
        await holder.CrashAsync();
        var result = await waiter.WaitForLineAsync("result:");

        // Assert
        result.Should().Be("result: 49 source: model");
        Server.RequestCount.Should().Be(2);
        holderSandbox.Should().NotBeEmpty();
        await WaitUntil(() => holderSandbox.All(pid => !IsAlive(pid)), "the dead instance's sandbox processes to end with their channel");
    }

    /// <summary>
    /// The fault matrix: one instance generates (its model request is slow), a second waits for it, and the Redis server
    /// between them and the instances (a relay the test controls, or the server itself) fails. Every call succeeds, and
    /// the fault costs at most one more model request. Each row is written to the test output.
    /// </summary>
    [Theory]
    [InlineData("paused server (12 s: past the client's 5 s timeout and a renewal)")]
    [InlineData("connections dropped")]
    [InlineData("server killed")]
    [InlineData("lock lost (deleted under the holder)")]
    [InlineData("generation longer than the lock expiry")]
    public async Task A_redis_fault_while_an_instance_generates_costs_at_most_a_model_request_never_the_call(string fault)
    {
        // Arrange: a server of this test's own (it may be killed) behind a relay that can stall or cut the connections
        var redis = new GarnetFixture();
        try
        {
            await using var relay = new TcpProxy(redis.Port);
            var shortLock = fault.StartsWith("lock lost", StringComparison.Ordinal) || fault.StartsWith("generation longer", StringComparison.Ordinal);
            Server.Then(FakeReply.Code(Square) with { Delay = TimeSpan.FromSeconds(shortLock ? 10 : 6) }).Always(FakeReply.Code(Square) with { Delay = TimeSpan.FromSeconds(1) });
            var settings = new Dictionary<string, string>(Settings(TestEnvironment.Unique("Square the number."), relay.Configuration));
            if (shortLock) settings["AnyDef__GenerationLockExpiry"] = "00:00:03";
            await using var holder = FleetInstance.Start(settings);
            await using var waiter = FleetInstance.Start(settings);
            await HolderAsksThenWaiterWaitsAsync(holder, waiter);

            // Act
            switch (fault[..fault.IndexOf(' ', StringComparison.Ordinal)])
            {
                case "paused":
                    relay.Pause();
                    await Task.Delay(TimeSpan.FromSeconds(12));
                    relay.Resume();
                    break;
                case "connections":
                    relay.Drop();
                    break;
                case "server":
                    redis.Dispose();
                    break;
                case "lock":
                    await using (var direct = await ConnectionMultiplexer.ConnectAsync(redis.Configuration))
                    {
                        var db = direct.GetDatabase();
                        var locks = (RedisResult[])(await db.ExecuteAsync("KEYS", "anydef:*:lock:*"))!;
                        locks.Should().ContainSingle("the holder holds the function's lock");
                        (await db.KeyDeleteAsync((string)locks[0]!)).Should().BeTrue();
                    }

                    break;
            }

            var results = await Task.WhenAll(holder.WaitForLineAsync("result:", TimeSpan.FromMinutes(2)), waiter.WaitForLineAsync("result:", TimeSpan.FromMinutes(2)));

            // Assert
            output.WriteLine($"| {fault} | holder: {results[0]}; {Warnings(holder)} | waiter: {results[1]}; {Warnings(waiter)} | {Server.RequestCount} |");
            results.Should().AllSatisfy(r => r.Should().StartWith("result: 49 source: "), "a Redis fault never fails the call");
            Server.RequestCount.Should().BeLessThanOrEqualTo(2, "a Redis fault costs at most one more model request");
            results[0].Should().Be("result: 49 source: model");
            if (fault.StartsWith("lock lost", StringComparison.Ordinal))
            {
                holder.Output.Should().Contain("was lost", "the holder notices that it no longer holds the lock");
                results[1].Should().Be("result: 49 source: model", "the waiter takes the free lock and generates");
                Server.RequestCount.Should().Be(2);
            }

            if (fault.StartsWith("generation longer", StringComparison.Ordinal))
            {
                results[1].Should().Be("result: 49 source: distributed", "the holder renews its lock while it generates");
                Server.RequestCount.Should().Be(1);
            }
        }
        finally
        {
            redis.Dispose();
        }
    }

    [Fact]
    public async Task A_failed_generation_is_shared_with_the_waiters_instead_of_each_asking_the_model_again()
    {
        // Arrange: the model never writes code, slowly enough that the waiter arrives while the holder tries
        Server.Always(FakeReply.Text("I cannot write that.") with { Delay = TimeSpan.FromSeconds(2) });
        var settings = new Dictionary<string, string>(Settings(TestEnvironment.Unique("Square the number."))) { ["AnyDef__MaxAttempts"] = "2" };
        await using var holder = FleetInstance.Start(settings);
        await using var waiter = FleetInstance.Start(settings);
        await HolderAsksThenWaiterWaitsAsync(holder, waiter);

        // Act
        var results = await Task.WhenAll(holder.WaitForLineAsync("result:"), waiter.WaitForLineAsync("result:"));

        // Assert
        results[0].Should().StartWith("result: failed CodeGenerationException");
        results[1].Should().StartWith("result: failed CodeGenerationException: Another instance failed to generate 'square' moments ago");
        Server.RequestCount.Should().Be(2, "the holder's two attempts, and none from the waiter");
    }

    [Fact]
    public async Task A_fleet_that_shares_code_without_a_generation_lock_is_told_what_to_register()
    {
        var settings = new Dictionary<string, string>(Settings(TestEnvironment.Unique("Square the number."))) { ["Fleet__NoLock"] = "true" };

        await using var instance = FleetInstance.Start(settings);
        await instance.WaitForLineAsync("ready");

        instance.Output.Should().Contain("UseDistributedCache is true, but no IGenerationLock is registered").And.Contain("new RedisGenerationLock(connection)");
    }

    public sealed record SquareArgs(int X);

    [Fact]
    public async Task Shared_code_recorded_for_other_package_versions_is_not_run_and_the_function_is_generated_instead()
    {
        // Arrange: an entry where this instance's entry belongs, recorded for other versions of its packages
        var spec = FunctionSpec.For<SquareArgs, int>("square", TestEnvironment.Unique("Square the number."));
        const string Installed = "regex==2024.11.6";
        var cache = new Microsoft.Extensions.Caching.Distributed.MemoryDistributedCache(Microsoft.Extensions.Options.Options.Create(new Microsoft.Extensions.Caching.Memory.MemoryDistributedCacheOptions()));
        var options = new AnyDefOptions { DistributedCache = cache, GenerationLockExpiry = TimeSpan.FromSeconds(5) };
        var logger = new TestLogger();
        await cache.SetAsync(Internal.FleetCache.CodeKey(spec, Installed),
            System.Text.Encoding.UTF8.GetBytes("""{"function":"square","code":"def square(x):\n    return 'planted'","packages":"regex==2023.1.1"}"""), new());
        var generated = 0;

        // Act
        var code = await Internal.FleetCache.GetOrGenerateAsync(spec, options, Installed, logger, () =>
        {
            generated++;
            return Task.FromResult(new GeneratedCode(Square, "model", "fake-model", null));
        });
        var again = await Internal.FleetCache.GetOrGenerateAsync(spec, options, Installed, logger, () => throw new InvalidOperationException("not generated twice"));
        var withoutPackages = await Internal.FleetCache.GetOrGenerateAsync(spec, options, null, logger, () => Task.FromResult(new GeneratedCode("def square(x):\n    return x ** 2", "model", "fake-model", null)));

        // Assert
        code.Code.Should().Be(Square);
        generated.Should().Be(1);
        logger.Lines.Should().Contain(l => l.Contains("generated for packages regex==2023.1.1, but this instance runs regex==2024.11.6", StringComparison.Ordinal));
        again.Should().Match<GeneratedCode>(c => c.Code == Square && c.Source == "distributed", "the entry now records this instance's versions");
        withoutPackages.Code.Should().NotBe(Square, "an instance with other packages has entries of its own");
    }

    private sealed class TestLogger : Microsoft.Extensions.Logging.ILogger
    {
        public List<string> Lines { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

        public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Lines) Lines.Add(formatter(state, exception));
        }
    }

    private static string Warnings(FleetInstance instance) => string.Join("; ", instance.Output.Split('\n')
        .Where(l => l.StartsWith("warn:", StringComparison.Ordinal) && !l.Contains("bubblewrap", StringComparison.Ordinal))
        .Select(l => l[(l.IndexOf("] ", StringComparison.Ordinal) + 2)..])
        .Select(l => l.Length > 200 ? l[..200] + "..." : l));

    private static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
    }

    // Both instances ready; the holder takes the lock and asks the model, then the waiter arrives and waits for its result.
    private async Task HolderAsksThenWaiterWaitsAsync(FleetInstance holder, FleetInstance waiter)
    {
        await Task.WhenAll(holder.WaitForLineAsync("ready"), waiter.WaitForLineAsync("ready"));
        await holder.GoAsync();
        await WaitUntil(() => Server.RequestCount == 1, "the holder's model request");
        await waiter.GoAsync();
        await waiter.WaitForLineAsync("waiting for its result");
    }

    private static async Task WaitUntil(Func<bool> condition, string what)
    {
        for (var i = 0; i < 600; i++)
        {
            if (condition()) return;
            await Task.Delay(100);
        }

        throw new TimeoutException(string.Create(CultureInfo.InvariantCulture, $"Gave up waiting for {what}."));
    }
}
