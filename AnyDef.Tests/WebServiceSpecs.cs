using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;

namespace AnyDefNet.Tests;

// In the sandbox collection: the running service configures the static API, which other specs there rely on.
[Collection(SandboxCollection.Name)]
public sealed class WebServiceSpecs : FakeModelSpecs
{
    private const string Slugify = """
        import re, unicodedata
        def slugify(title, max_len):
            s = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
            return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:max_len].rstrip("-")
        """;

    private const string Primes = """
        def primes_between(low, high):
            return [p for p in range(max(2, low), high + 1) if all(p % d for d in range(2, int(p ** 0.5) + 1))]
        """;

    [Fact]
    public async Task The_example_service_serves_its_two_functions_and_reports_their_spans_and_metrics()
    {
        // Arrange: an empty store, so the model writes both functions
        using var telemetry = new TelemetryRecorder();
        Server.Always(request => FakeReply.Code(request.ToJsonString().Contains("primes_between", StringComparison.Ordinal) ? Primes : Slugify));
        var settings = new Dictionary<string, string?>
        {
            ["AnyDef:StoreDirectory"] = TestEnvironment.TempDir(),
            ["AnyDef:Endpoint"] = Server.BaseUrl.ToString(),
            ["AnyDef:ApiKey"] = "test-key",
            ["AnyDef:Model"] = "fake-model",
            ["Telemetry:Console"] = "false",
        };
        await using var factory = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(b => b.ConfigureAppConfiguration((_, c) => c.AddInMemoryCollection(settings)));
        using var client = factory.CreateClient();

        // Act
        var slug = await client.GetStringAsync("/slug?title=Cr%C3%A8me%20Br%C3%BBl%C3%A9e%3A%20A%20Love%20Story!");
        var primes = await client.GetStringAsync("/primes/10/30");
        var health = await client.GetStringAsync("/health");

        // Assert
        slug.Should().Be("creme-brulee-a-love-story");
        primes.Should().Be("[11,13,17,19,23,29]");
        health.Should().Be("Healthy");
        Server.RequestCount.Should().Be(2);
        foreach (var function in new[] { "slugify", "primes_between" })
        {
            var spans = telemetry.Spans(function);
            spans.Should().Contain(s => s.OperationName == AnyDefTelemetry.ResolveSpan && (string?)s.GetTagItem("anydef.code.source") == "model");
            spans.Should().Contain(s => s.OperationName == "chat fake-model" && (string?)s.GetTagItem("gen_ai.response.model") == "fake-model");
            spans.Should().Contain(s => s.OperationName == AnyDefTelemetry.SandboxCallSpan && (string?)s.GetTagItem("anydef.outcome") == "ok");
            telemetry.Measurements("anydef.call.duration", function).Should().Contain(m => (string?)m.Tags["anydef.outcome"] == "ok");
            telemetry.Measurements("anydef.generations", function).Should().Contain(m => (string?)m.Tags["anydef.outcome"] == "success");
        }
    }
}
