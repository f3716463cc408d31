using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
[Trait("Category", "Sandbox")]
public sealed class HealthSpecs
{
    public sealed record N(int X);

    private static IHost BuildHost(Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddAnyDef();
        builder.Services.AddHealthChecks().AddAnyDef();
        return builder.Build();
    }

    private static async Task<(HealthReport Report, IHost Host)> CheckAsync(Dictionary<string, string?> settings, Func<IHost, Task>? before = null)
    {
        var host = BuildHost(settings);
        await host.StartAsync();
        if (before is not null) await before(host);
        return (await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(), host);
    }

    [Fact]
    public async Task A_started_service_is_healthy_after_a_sandbox_round_trip_and_a_store_read()
    {
        // Arrange
        var store = TestEnvironment.TempDir();
        await File.WriteAllTextAsync(Path.Combine(store, "x.0.py"), "def x():\n    return 1\n");

        // Act
        var (report, host) = await CheckAsync(new() { ["AnyDef:StoreDirectory"] = store, ["AnyDef:Sandbox:SpareProcesses"] = "0" });
        await host.StopAsync();
        host.Dispose();

        // Assert
        report.Status.Should().Be(HealthStatus.Healthy, report.Entries["anydef"].Description);
        report.Entries["anydef"].Data.Should().ContainKey("sandbox_round_trip_ms");
    }

    [Fact]
    public async Task A_store_that_cannot_be_read_makes_the_service_unhealthy_and_names_the_setting()
    {
        // Arrange: the store path is a file
        var notAFolder = Path.Combine(TestEnvironment.TempDir(), "store.txt");
        await File.WriteAllTextAsync(notAFolder, "not a folder");

        // Act
        var (report, host) = await CheckAsync(new() { ["AnyDef:StoreDirectory"] = notAFolder, ["AnyDef:Sandbox:SpareProcesses"] = "0" });
        await host.StopAsync();
        host.Dispose();

        // Assert
        report.Status.Should().Be(HealthStatus.Unhealthy);
        report.Entries["anydef"].Description.Should().Contain("AnyDef:StoreDirectory").And.Contain("is a file");
    }

    [Fact]
    public async Task Processes_recycled_faster_than_the_threshold_make_the_service_degraded()
    {
        // Arrange: two calls stuck in C code past their timeout end two processes; one per minute is the threshold
        var store = TestEnvironment.TempDir();
        var settings = new Dictionary<string, string?>
        {
            ["AnyDef:StoreDirectory"] = store,
            ["AnyDef:Frozen"] = "true",
            ["AnyDef:AllowUnreviewed"] = "true",
            ["AnyDef:Timeout"] = "00:00:01",
            ["AnyDef:DegradedRecyclesPerMinute"] = "1",
            ["AnyDef:Sandbox:SpareProcesses"] = "0",
        };

        // Act
        var (report, host) = await CheckAsync(settings, async h =>
        {
            var service = h.Services.GetRequiredService<Hosting.AnyDefService>();
            var spin = service.Function<N, int>("spin", "Spin.");
            await new DirectoryCodeStore(store).WriteAsync(spin.Spec, "def spin(x):\n    return sum(range(10 ** 13))\n", "hand-written");
            for (var i = 0; i < 2; i++) await spin.Invoking(f => f.InvokeAsync(new N(i))).Should().ThrowAsync<SandboxTimeoutException>();
            // The process's end is reported when it has exited.
            for (var i = 0; i < 100 && service.Sandbox.ReplacementsWithin(TimeSpan.FromMinutes(1)) < 2; i++) await Task.Delay(100);
        });
        await host.StopAsync();
        host.Dispose();

        // Assert
        report.Status.Should().Be(HealthStatus.Degraded);
        report.Entries["anydef"].Description.Should().Contain("AnyDef:DegradedRecyclesPerMinute");
        ((int)report.Entries["anydef"].Data["sandbox_processes_replaced_last_minute"]).Should().BeGreaterThanOrEqualTo(2);
    }
}
