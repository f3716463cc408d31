using System.Diagnostics;
using System.Globalization;
using AnyDefNet.Sandbox.Internal;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// Memory of one function's host process against a plain Pyodide loaded in Deno, side by side in one run, both read
/// from outside the same way: after the first call and after many calls. The Deno process of each is compared (under the
/// operating-system wall the host's id is the wrapper's: its Deno process is the one below it), by resident size
/// (<c>VmRSS</c>), proportional size (PSS: shared pages split between the processes that map them) and unique size (USS:
/// private pages only, what ending the process would give back), from <c>/proc/PID/smaps_rollup</c>; the wrapper's own
/// processes are shown apart.
/// </summary>
/// <remarks>
/// <c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --memory [--calls N] [--host-dir DIR] [--smaps DIR]</c>;
/// <c>--smaps</c> keeps each Deno process's <c>/proc/PID/smaps</c> at both points for a per-mapping look.
/// </remarks>
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
        var smaps = Option(args, "--smaps");
        if (smaps is not null) Directory.CreateDirectory(smaps);
        var location = await RuntimeLocation.ResolveAsync(options, CancellationToken.None);

        var (plainFirst, plainMany) = await PlainAsync(location, calls, smaps);

        await using var sandbox = new PythonSandbox(options);
        await sandbox.RunAsync(Code, "add", "[1, 2]");
        var pid = sandbox.ProcessIdOf(Code, "add")!.Value;
        var deno = Tree(pid).First(p => File.ReadAllText($"/proc/{p}/comm").Trim() == "deno");
        var first = Measure(deno, smaps, "host-first");
        var wrapperFirst = Wrapper(pid, deno);
        for (var i = 0; i < calls; i++) await sandbox.RunAsync(Code, "add", $"[{i}, 2]");
        var many = Measure(deno, smaps, "host-many");
        var wrapperMany = Wrapper(pid, deno);

        Console.WriteLine($"| Deno process, MB: RSS / PSS / USS | after the first call | after {calls:N0} calls |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| plain Pyodide in Deno (baseline) | {plainFirst} | {plainMany} |");
        Console.WriteLine($"| a function's host process{(hostDir is null ? "" : " (" + hostDir + ")")} | {first} | {many} |");
        Console.WriteLine($"| ratio to the baseline | {first.Ratio(plainFirst)} | {many.Ratio(plainMany)} |");
        if (pid != deno) Console.WriteLine($"| the operating-system wall's own processes (bwrap), beside the host | {wrapperFirst} | {wrapperMany} |");
    }

    private readonly record struct Memory(long Rss, long Pss, long Uss)
    {
        public string Ratio(Memory plain) => $"{Rss / (double)plain.Rss:0.00}× / {Pss / (double)plain.Pss:0.00}× / {Uss / (double)plain.Uss:0.00}×";

        public override string ToString() => $"{Rss / 1024} / {Pss / 1024} / {Uss / 1024}";

        public static Memory operator +(Memory a, Memory b) => new(a.Rss + b.Rss, a.Pss + b.Pss, a.Uss + b.Uss);
    }

    // From the kernel's rollup of the process's mappings, in kB.
    private static Memory Measure(int pid, string? smaps = null, string? name = null)
    {
        if (smaps is not null) File.Copy($"/proc/{pid}/smaps", Path.Combine(smaps, name + ".smaps"), overwrite: true);
        var fields = File.ReadLines($"/proc/{pid}/smaps_rollup").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f.Length == 3 && f[2] == "kB").ToDictionary(f => f[0].TrimEnd(':'), f => long.Parse(f[1], CultureInfo.InvariantCulture));
        return new(fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"]);
    }

    private static Memory Wrapper(int pid, int deno) => Tree(pid).Where(p => p != deno).Aggregate(new Memory(), (sum, p) => sum + Measure(p));

    // The process and its descendants.
    private static IEnumerable<int> Tree(int pid)
    {
        yield return pid;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            var children = File.ReadAllText(Path.Combine(task, "children")).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            foreach (var child in children.SelectMany(c => Tree(int.Parse(c, CultureInfo.InvariantCulture)))) yield return child;
        }
    }

    private static async Task<(Memory First, Memory Many)> PlainAsync(RuntimeLocation location, int calls, string? smaps)
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
            var first = Measure(deno.Id, smaps, "plain-first");
            await deno.StandardInput.WriteLineAsync("x");
            await deno.StandardInput.FlushAsync();
            await deno.StandardOutput.ReadLineAsync();
            var many = Measure(deno.Id, smaps, "plain-many");
            deno.Kill();
            return (first, many);
        }
        finally
        {
            File.Delete(script);
        }
    }

    private static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
