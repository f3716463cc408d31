// A minimal API that serves two AnyDef functions, with traces and metrics exported to the console by the
// OpenTelemetry SDK. The reviewed code ships in anydef-store/, so it runs with no API key:
//   dotnet run --project examples/AnyDef.WebService
//   curl 'http://localhost:5000/slug?title=Cr%C3%A8me%20Br%C3%BBl%C3%A9e'    curl http://localhost:5000/primes/90/130
using AnyDefNet;
using AnyDefWebService;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddAnyDef(o => o with { StoreDirectory = Path.Combine(AppContext.BaseDirectory, o.StoreDirectory ?? "anydef-store") });
builder.Services.AddHealthChecks().AddAnyDef();
builder.Services.AddSingleton<TextFunctions>();
if (builder.Configuration.GetValue("Telemetry:Console", true))
{
    builder.Services.AddOpenTelemetry()
        .ConfigureResource(r => r.AddService("anydef-web-example"))
        // The request spans are the parents of AnyDef's spans: without them, ASP.NET Core's unsampled request activity
        // would make the default parent-based sampler drop AnyDef's spans.
        .WithTracing(t => t.AddAspNetCoreInstrumentation().AddSource(AnyDefTelemetry.SourceName).AddConsoleExporter())
        .WithMetrics(m => m.AddMeter(AnyDefTelemetry.SourceName).AddConsoleExporter());
}

var app = builder.Build();
app.MapGet("/slug", (string title, int? maxLen, TextFunctions f, CancellationToken ct) => f.Slugify.InvokeAsync(new SlugArgs(title, maxLen ?? 40), ct));
app.MapGet("/primes/{low:long}/{high:long}", (long low, long high, TextFunctions f, CancellationToken ct) => f.Primes.InvokeAsync(new PrimeArgs(low, high), ct));
app.MapHealthChecks("/health");
app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
