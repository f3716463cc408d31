using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Cli;

/// <summary><c>anydef doctor</c>: checks each part AnyDef needs and says what to fix.</summary>
internal static class DoctorCommand
{
    public static Command Create()
    {
        var store = Options.Store();
        var command = new Command("doctor", "Check Deno, Pyodide, the model settings and the store, and time a sandbox round trip.") { store };
        command.SetAction(async (parse, ct) =>
        {
            var exit = ExitCodes.Success;
            void Line(bool ok, string what, string detail) => Console.Out.WriteLine($"{(ok ? "OK  " : "FAIL")} {what,-8} {detail}");

            RuntimeLocation? location = null;
            try
            {
                location = await RuntimeLocation.ResolveAsync(SandboxOptions.Default, ct);
                Line(true, "deno", $"{await DenoVersionAsync(location.DenoPath, ct)} ({location.DenoPath})");
                Line(true, "pyodide", $"{PyodideVersion(location.PyodideDirectory)} ({location.PyodideDirectory})");
            }
            catch (SandboxUnavailableException ex)
            {
                Line(false, "runtime", ex.Message);
                exit = ExitCodes.SandboxUnavailable;
            }

            if (location is not null)
            {
                try
                {
                    var sandbox = PythonSandbox.GetShared();
                    var start = Stopwatch.StartNew();
                    Progress.Say("starting the sandbox (the first start makes the interpreter snapshot)");
                    await sandbox.RunAsync("def ping():\n    return 1\n", "ping", cancellationToken: ct);
                    var cold = start.Elapsed;
                    var times = new List<double>();
                    for (var i = 0; i < 50; i++)
                    {
                        start.Restart();
                        await sandbox.RunAsync("def ping():\n    return 1\n", "ping", cancellationToken: ct);
                        times.Add(start.Elapsed.TotalMilliseconds);
                    }

                    times.Sort();
                    Line(true, "sandbox", $"first call {cold.TotalMilliseconds:0} ms, round trip p50 {times[times.Count / 2]:0.###} ms");
                }
                catch (AnyDefException ex)
                {
                    Line(false, "sandbox", ex.Message);
                    exit = ExitCodes.SandboxUnavailable;
                }
            }

            // The operating-system layer beneath Deno's permissions: on, or off and how to turn it on. Off is not a failure.
            if (OsSandbox.IsOn(SandboxOptions.Default))
            {
                Line(true, "os-wall", $"on: each host runs in bubblewrap namespaces ({OsSandbox.Bwrap}) beneath Deno's permissions");
            }
            else
            {
                Console.Out.WriteLine("WARN os-wall  off: install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap) where user namespaces are allowed; " +
                    "Deno's permissions remain the only wall");
            }

            // The channel to each host: a Unix socket, or loopback TCP with a one-time secret (Windows, or when chosen).
            Line(true, "channel", SandboxOptions.Default.EffectiveTransport == SandboxTransport.Tcp
                ? "loopback TCP on 127.0.0.1 with a one-time secret per host (SandboxOptions.Transport)"
                : "a private Unix socket per host (SandboxOptions.Transport = Tcp selects loopback TCP)");

            var modelOk = await CheckModelAsync(Line, ct);
            if (!modelOk && exit == ExitCodes.Success) exit = ExitCodes.GenerationFailed;

            var dir = parse.GetValue(store);
            if (dir is null)
            {
                Console.Out.WriteLine("OK   store    none configured (set ANYDEF_STORE_DIR or --store to keep reviewed code beside your app)");
            }
            else
            {
                var codeStore = new DirectoryCodeStore(dir);
                if (!Directory.Exists(codeStore.Directory))
                {
                    Line(true, "store", $"{codeStore.Directory} does not exist yet; it is created on the first generated function");
                }
                else
                {
                    var functions = codeStore.List().ToList();
                    Line(true, "store", $"{codeStore.Directory}: {functions.Count} function(s), {functions.Count(f => f.Reviewed)} reviewed");
                }
            }

            return exit;
        });
        return command;
    }

    private static async Task<bool> CheckModelAsync(Action<bool, string, string> line, CancellationToken ct)
    {
        var key = Environment.GetEnvironmentVariable("OPENAI_API_KEY");
        var baseUrl = Environment.GetEnvironmentVariable("OPENAI_BASE_URL");
        var model = Environment.GetEnvironmentVariable("ANYDEF_MODEL") is { Length: > 0 } m ? m : Generation.ChatClients.DefaultModel;
        if (string.IsNullOrEmpty(key) && string.IsNullOrEmpty(baseUrl))
        {
            Console.Out.WriteLine("WARN model    not configured: set OPENAI_API_KEY (OpenAI) or OPENAI_BASE_URL (a compatible server) to generate; stored functions run without");
            return true;
        }

        var endpoint = (string.IsNullOrEmpty(baseUrl) ? "https://api.openai.com/v1" : baseUrl).TrimEnd('/') + "/models";
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using var request = new HttpRequestMessage(HttpMethod.Get, endpoint);
            if (!string.IsNullOrEmpty(key)) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await http.SendAsync(request, ct);
            if (!response.IsSuccessStatusCode)
            {
                line(false, "model", $"{endpoint} answered HTTP {(int)response.StatusCode}: check OPENAI_API_KEY and OPENAI_BASE_URL");
                return false;
            }

            line(true, "model", $"{endpoint} reachable; model {model}");
            return true;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            line(false, "model", $"{endpoint} unreachable ({ex.Message}): check OPENAI_BASE_URL and the network");
            return false;
        }
    }

    private static async Task<string> DenoVersionAsync(string deno, CancellationToken ct)
    {
        using var process = Process.Start(new ProcessStartInfo(deno, "--version") { RedirectStandardOutput = true, UseShellExecute = false })!;
        var text = await process.StandardOutput.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return text.Split('\n')[0].Trim();
    }

    private static string PyodideVersion(string dir)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "package.json")));
        return "pyodide " + doc.RootElement.GetProperty("version").GetString();
    }
}
