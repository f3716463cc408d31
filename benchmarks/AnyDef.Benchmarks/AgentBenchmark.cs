using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Agents;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// What run_python costs over a plain sandbox call of the same code, in one run (rounds alternate, medians per call), and
/// the resident memory of an idle session's process (read from outside, <c>/proc/PID/status</c>).
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --agents [--calls N]</c>.</remarks>
internal static class AgentBenchmark
{
    private const string Expression = "sum(i * i for i in range(100))";
    private const string Function = "def f():\n    return sum(i * i for i in range(100))\n";

    public static async Task RunAsync(string[] args)
    {
        var calls = Array.IndexOf(args, "--calls") is var i and >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 2000;
        await using var sandbox = new PythonSandbox(SandboxOptions.Default with { SpareProcesses = 1 });
        await using var runner = new PythonRunner(new RunPythonOptions { Sandbox = sandbox });
        var tool = AnyDefTools.RunPython(runner);
        var arguments = new AIFunctionArguments { ["code"] = Expression };
        var session = new AIFunctionArguments { ["code"] = Expression, ["session"] = "bench" };

        var ways = new (string Name, Func<Task> Call)[]
        {
            ("plain sandbox call of the same code (PythonSandbox.RunAsync)", () => sandbox.RunAsync(Function, "f")),
            ("PythonRunner.RunAsync, stateless", () => runner.RunAsync(Expression)),
            ("run_python tool (AIFunction.InvokeAsync), stateless", async () => await tool.InvokeAsync(arguments)),
            ("run_python tool, in a session", async () => await tool.InvokeAsync(session)),
        };
        var times = ways.Select(_ => new List<double>()).ToArray();
        foreach (var (_, call) in ways) for (var w = 0; w < 200; w++) await call();
        for (var round = 0; round < 10; round++)
        {
            for (var k = 0; k < ways.Length; k++)
            {
                for (var n = 0; n < calls / 10; n++)
                {
                    var watch = Stopwatch.StartNew();
                    await ways[k].Call();
                    times[k].Add(watch.Elapsed.TotalMicroseconds);
                }
            }
        }

        var baseline = Median(times[0]);
        Console.WriteLine($"| way ({calls:N0} warm calls each, rounds alternating) | median µs per call | ratio |");
        Console.WriteLine("|---|---:|---:|");
        for (var k = 0; k < ways.Length; k++) Console.WriteLine($"| {ways[k].Name} | {Median(times[k]):0.0} | {Median(times[k]) / baseline:0.00}× |");

        // An idle session: one small cell, then nothing for a while.
        await runner.RunAsync("import json\nx = list(range(1000))", "idle");
        var pid = runner.ProcessIdOf("idle")!.Value;
        await Task.Delay(TimeSpan.FromSeconds(5));
        var stateless = sandbox.ProcessIdOf(PythonRunnerScript.Code, PythonRunnerScript.FunctionName);
        Console.WriteLine();
        Console.WriteLine($"idle session process (pid {pid}): {Rss(pid)} MB RSS after 5 s idle" +
            (stateless is { } s ? $"; the stateless run_python process beside it: {Rss(s)} MB" : ""));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }

    private static long Rss(int pid) =>
        long.Parse(File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1],
            CultureInfo.InvariantCulture) / 1024;
}
