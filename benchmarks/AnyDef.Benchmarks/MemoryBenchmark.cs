using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Resident memory of one function's host process against a plain Pyodide loaded in Deno, side by side in one run,
/// both read from outside (<c>/proc/PID/status</c>): after the first call and after many calls.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --memory [--calls N] [--host-dir DIR]</c>.</remarks>
internal static class MemoryBenchmark
{
    private const string Code = "def add(a, b):\n    return a + b\n";

    // The plain baseline: Pyodide loaded in Deno as its documentation shows, calling the same function.
    private const string PlainScript = """
        const { loadPyodide } = await import(Deno.args[0]);
        const py = await loadPyodide({ indexURL: Deno.args[1], stdout: () => {}, stderr: () => {} });
        py.runPython("def add(a, b):\n    return a + b\n");
        const add = py.globals.get("add");
        const calls = Number(Deno.args[2]);
        const report = async () => { await Deno.stdout.write(new TextEncoder().encode("ready\n")); const b = new Uint8Array(1); await Deno.stdin.read(b); };
        add(1, 2);
        await report();
        for (let i = 0; i < calls; i++) add(i, 2);
        await report();
        """;

    public static async Task RunAsync(string[] args)
    {
        var calls = int.Parse(Option(args, "--calls") ?? "20000", CultureInfo.InvariantCulture);
        var hostDir = Option(args, "--host-dir");
        var options = SandboxOptions.Default with { SpareProcesses = 0, HostDirectory = hostDir is null ? null : Path.GetFullPath(hostDir) };
        var location = await RuntimeLocation.ResolveAsync(options, CancellationToken.None);

        var (plainFirst, plainMany) = await PlainAsync(location, calls);

        await using var sandbox = new PythonSandbox(options);
        await sandbox.RunAsync(Code, "add", "[1, 2]");
        var pid = sandbox.ProcessIdOf(Code, "add")!.Value;
        var first = Rss(pid);
        for (var i = 0; i < calls; i++) await sandbox.RunAsync(Code, "add", $"[{i}, 2]");
        var many = Rss(pid);

        Console.WriteLine($"| process | after the first call | after {calls:N0} calls |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| plain Pyodide in Deno (baseline) | {plainFirst} MB (1×) | {plainMany} MB (1×) |");
        Console.WriteLine($"| a function's host process{(hostDir is null ? "" : " (" + hostDir + ")")} | {first} MB ({(double)first / plainFirst:0.00}×) | {many} MB ({(double)many / plainMany:0.00}×) |");
    }

    private static async Task<(long First, long Many)> PlainAsync(RuntimeLocation location, int calls)
    {
        var script = Path.Combine(Path.GetTempPath(), $"anydef-plain-pyodide-{Environment.ProcessId}.mjs");
        await File.WriteAllTextAsync(script, PlainScript);
        try
        {
            var start = new ProcessStartInfo(location.DenoPath)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "run", "--no-prompt", "--no-config", "--no-lock", $"--allow-read={location.PyodideDirectory},{script}", script,
                         new Uri(Path.Combine(location.PyodideDirectory, "pyodide.mjs")).AbsoluteUri, location.PyodideDirectory + "/", calls.ToString(CultureInfo.InvariantCulture) })
            {
                start.ArgumentList.Add(a);
            }

            start.Environment["DENO_DIR"] = Path.Combine(location.CacheDirectory, "deno-dir");
            using var deno = Process.Start(start)!;
            _ = deno.StandardError.ReadToEndAsync();
            await deno.StandardOutput.ReadLineAsync();
            var first = Rss(deno.Id);
            await deno.StandardInput.WriteLineAsync("x");
            await deno.StandardInput.FlushAsync();
            await deno.StandardOutput.ReadLineAsync();
            var many = Rss(deno.Id);
            deno.Kill();
            return (first, many);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static long Rss(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            CultureInfo.InvariantCulture) / 1024;

    private static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
