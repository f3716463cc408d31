using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>Runs alone: it measures the memory the whole process allocates.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}

[Collection(AloneCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class LargeReplySpecs
{
    private const int Size = 8 * 1024 * 1024;

    [Fact]
    public async Task A_large_allowed_result_costs_a_few_times_its_size_to_read()
    {
        await using var sandbox = new PythonSandbox(MisbehavingHost.Options(MisbehavingHost.Copy()) with { MaxResultBytes = 4 * Size });
        (await sandbox.RunAsync("# no Python", "big", "[\"echo\", 0]")).ResultJson.Should().Be("[\"echo\",0]");
        (await LargeAsync(sandbox)).Should().Be(Size + 2);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < 6; i++) (await LargeAsync(sandbox)).Should().Be(Size + 2);
        var allocatedPerCall = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / 6;

        allocatedPerCall.Should().BeLessThan(6L * Size, "the reply is read in place, unescaped once, and becomes one string (two bytes a character)");
    }

    private static async Task<int> LargeAsync(PythonSandbox sandbox) =>
        (await sandbox.RunAsync("# no Python", "big", $"[\"large_result\", {Size}]", timeout: TimeSpan.FromSeconds(60))).ResultJson.Length;
}
