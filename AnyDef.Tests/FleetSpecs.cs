using System.Globalization;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Instances of one application, as separate processes, sharing code and a generation lock on a real Garnet server.</summary>
public sealed class FleetSpecs(GarnetFixture garnet) : FakeModelSpecs, IClassFixture<GarnetFixture>
{
    private const string Square = "def square(x):\n    return x * x";

    private Dictionary<string, string> Settings(string description) => new()
    {
        ["AnyDef__Endpoint"] = Server.BaseUrl.ToString(),
        ["AnyDef__ApiKey"] = "test-key",
        ["AnyDef__Model"] = "fake-model",
        ["AnyDef__UseDistributedCache"] = "true",
        // Long enough that a loaded machine does not delay the holder's renewal (a third of it) past the expiry.
        ["AnyDef__GenerationLockExpiry"] = "00:00:10",
        ["AnyDef__Sandbox__SpareProcesses"] = "0",
        ["Fleet__Redis"] = garnet.Configuration,
        ["Fleet__Description"] = description,
    };

    [Fact]
    public async Task Two_instances_calling_a_new_function_at_the_same_moment_make_one_model_request()
    {
        // Arrange: the model takes a moment, so the second instance arrives while the first generates
        Server.Always(FakeReply.Code(Square) with { Delay = TimeSpan.FromSeconds(1) });
        var settings = Settings(TestEnvironment.Unique("Square the number."));
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
