using System.Diagnostics;
using System.Text.Json;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Xunit.Abstractions;

namespace AnyDefNet.Tests;

/// <summary>
/// A hostile function attacks the walls around its own call, as generated code would (Python reaches all of JavaScript
/// through <c>import js</c>): nothing it writes grows the application's memory past a fixed bound, and no other call's
/// outcome, deadline or process is affected.
/// </summary>
[Trait("Category", "Hostile")]
[Trait("Category", "Sandbox")]
public sealed class HostileSpecs(ITestOutputHelper output)
{
    // The most the application's managed heap and resident size may grow while a function floods it.
    private const long BoundBytes = 64L * 1024 * 1024;

    private const string Echo = "def echo(x):\n    return x\n";

    private static PythonSandbox NewSandbox(SandboxOptions? options = null) => new((options ?? TestEnvironment.Sandbox) with { SpareProcesses = 0, MaxProcesses = 4 });

    /// <summary>Samples the application's managed heap and resident size while <paramref name="work"/> runs.</summary>
    private async Task<(long Heap, long Resident)> PeakGrowthAsync(Func<Task> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        long heap0 = GC.GetTotalMemory(false), rss0 = self.WorkingSet64, heap = 0, rss = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                self.Refresh();
                heap = Math.Max(heap, GC.GetTotalMemory(false) - heap0);
                rss = Math.Max(rss, self.WorkingSet64 - rss0);
                await Task.Delay(20).ConfigureAwait(false);
            }
        });
        try
        {
            await work();
        }
        finally
        {
            stop.Cancel();
            await sampler;
        }

        output.WriteLine($"peak growth: managed heap {heap / 1048576.0:0.0} MiB, resident {rss / 1048576.0:0.0} MiB (from {heap0 / 1048576.0:0.0} / {rss0 / 1048576.0:0.0} MiB)");
        return (heap, rss);
    }

    [Fact]
    public async Task A_function_flooding_the_hosts_stdout_without_newlines_does_not_grow_the_applications_memory()
    {
        // 500 MiB in 1 MiB writes, no newline anywhere, straight to the host process's own standard output.
        const string flood = """
            def flood():
                import js
                chunk = js.Uint8Array.new(1 << 20).fill(120)
                for _ in range(500):
                    written = 0
                    while written < chunk.length:
                        written += js.Deno.stdout.writeSync(chunk.subarray(written))
                return "flooded"
            """;
        await using var sandbox = NewSandbox();
        (await sandbox.RunAsync(Echo, "echo", "[1]")).ResultJson.Should().Be("1");

        SandboxResult? result = null;
        var (heap, resident) = await PeakGrowthAsync(async () => result = await sandbox.RunAsync(flood, "flood", timeout: TimeSpan.FromSeconds(120)));

        result!.ResultJson.Should().Be("\"flooded\"");
        heap.Should().BeLessThan(BoundBytes, "the host's standard output is read as bounded chunks, not lines");
        resident.Should().BeLessThan(BoundBytes * 2);
        (await sandbox.RunAsync(Echo, "echo", "[2]")).ResultJson.Should().Be("2");
    }
}
