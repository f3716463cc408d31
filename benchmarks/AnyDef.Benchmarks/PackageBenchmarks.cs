using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// The first call of a new function that imports a package (verified files already in the cache) beside one that
/// imports nothing, both from a warm spare: the difference is linking the files into the host's folder, installing
/// them into the interpreter after the snapshot, and the import.
/// </summary>
[InvocationCount(1)]
public class PackageBenchmarks
{
    private const string Package = "anydef-bench-text";
    private PythonSandbox _plain = null!;
    private PythonSandbox _packaged = null!;
    private string _wheels = null!;
    private int _fresh;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _wheels = Directory.CreateTempSubdirectory("anydef-bench-wheels-").FullName;
        BuildWheel(Path.Combine(_wheels, "anydef_bench_text-1.0-py3-none-any.whl"));
        var options = SandboxOptions.Default with { SpareProcesses = 1, MaxProcesses = 4 };
        _plain = PythonSandbox.GetShared(options);
        _packaged = new PythonSandbox(options with { Packages = [Package], WheelDirectory = _wheels });
        await _plain.WarmUpAsync();
        // Fetches, verifies and caches the wheel once, outside the measurement.
        await _packaged.WarmUpAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _packaged.DisposeAsync();
        Directory.Delete(_wheels, recursive: true);
    }

    // Both take the same sandbox's spare (a sandbox with packages borrows them); refill it outside the measurement.
    [IterationSetup]
    public void ReadySpare() => _plain.WarmUpAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "first call, no packages (warm spare)")]
    public async Task<string> FirstCallWithoutPackages() =>
        (await _plain.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\nimport re\n\ndef words(text):\n    return len(re.findall(r'\\w+', text))\n",
            "words", "[\"a b c\"]")).ResultJson;

    [Benchmark(Description = "first call, one package from the cache (warm spare)")]
    public async Task<string> FirstCallWithPackage() =>
        (await _packaged.RunAsync($"# variant {Interlocked.Increment(ref _fresh)}\nfrom anydef_bench_text import words as w\n\ndef words(text):\n    return w(text)\n",
            "words", "[\"a b c\"]")).ResultJson;

    // A small pure-Python package of some size (about 60 KB of source in a few modules), built here so the benchmark needs no network.
    private static void BuildWheel(string path)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Write(string name, string text)
        {
            using var writer = new StreamWriter(zip.CreateEntry(name).Open());
            writer.Write(text);
        }

        Write("anydef_bench_text/__init__.py", "import re\nfrom .helpers0 import *\n\ndef words(text):\n    return len(re.findall(r'\\w+', text))\n");
        for (var m = 0; m < 4; m++)
        {
            var source = new StringBuilder();
            for (var f = 0; f < 100; f++) source.Append($"def helper_{m}_{f}(x):\n    \"\"\"Helper {f} of module {m}.\"\"\"\n    return [i * {f} for i in range(x)]\n\n");
            Write($"anydef_bench_text/helpers{m}.py", source.ToString());
        }

        Write("anydef_bench_text-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: anydef-bench-text\nVersion: 1.0\n\n");
        Write("anydef_bench_text-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: anydef-benchmarks\nRoot-Is-Purelib: true\nTag: py3-none-any\n");
        Write("anydef_bench_text-1.0.dist-info/RECORD", "");
    }
}
