using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using AnyDefNet.Packages;

namespace AnyDefNet.Benchmarks;

/// <summary>
/// What checking package files against their SHA-256 costs on the first call of a function with a numpy-sized package
/// (a 40 MB wheel built here): the same first call from a warm spare with the checks on and off, alternating in one run,
/// and the library's once-per-run hash of the cached file.
/// </summary>
/// <remarks><c>dotnet run -c Release --project benchmarks/AnyDef.Benchmarks -- --package-check [rounds]</c></remarks>
public static class PackageCheckBenchmark
{
    private const string Package = "anydef-bench-large";

    public static async Task RunAsync(string[] args)
    {
        var rounds = args.Select(a => int.TryParse(a, out var n) ? n : 0).FirstOrDefault(n => n > 0, 6);
        var wheels = Directory.CreateTempSubdirectory("anydef-bench-large-").FullName;
        try
        {
            var wheel = Path.Combine(wheels, "anydef_bench_large-1.0-py3-none-any.whl");
            BuildWheel(wheel, 40 * 1024 * 1024);
            Console.WriteLine($"wheel: {new FileInfo(wheel).Length / (1024.0 * 1024):0.0} MB");
            var options = SandboxOptions.Default with { SpareProcesses = 1, MaxProcesses = 4, Packages = [Package], WheelDirectory = wheels };
            await using var sandbox = new PythonSandbox(options);
            await sandbox.WarmUpAsync();

            var cached = (await sandbox.GetPackagesAsync(CancellationToken.None)).Single().Path;
            var hash = Stopwatch.StartNew();
            _ = VerifiedFiles.Hash(cached);
            Console.WriteLine($"the library's once-per-run hash of the cached file: {hash.Elapsed.TotalMilliseconds:0.0} ms");

            var on = new List<double>();
            var off = new List<double>();
            for (var i = 0; i < rounds * 2; i++)
            {
                var check = i % 2 == 0;
                VerifiedFiles.DisabledForBenchmarks = !check;
                await sandbox.WarmUpAsync();
                var code = $"# variant {i}\nfrom anydef_bench_large import size\n\ndef f():\n    return size()\n";
                var watch = Stopwatch.StartNew();
                var result = await sandbox.RunAsync(code, "f");
                (check ? on : off).Add(watch.Elapsed.TotalMilliseconds);
                if (i == 0) Console.WriteLine($"result: {result.ResultJson}");
            }

            VerifiedFiles.DisabledForBenchmarks = false;
            static double Median(List<double> x) => x.Order().ElementAt(x.Count / 2);
            Console.WriteLine($"first call with the check:    median {Median(on):0} ms  ({string.Join(", ", on.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))})");
            Console.WriteLine($"first call without the check: median {Median(off):0} ms  ({string.Join(", ", off.Select(v => v.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))})");
            Console.WriteLine($"cost: {Median(on) - Median(off):0} ms, ratio {Median(on) / Median(off):0.00}");
        }
        finally
        {
            VerifiedFiles.DisabledForBenchmarks = false;
            Directory.Delete(wheels, recursive: true);
        }
    }

    // Incompressible data in a module's folder (as a package's compiled libraries and data are), stored as they are.
    private static void BuildWheel(string path, int bytes)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Write(string name, byte[] content, CompressionLevel level)
        {
            using var stream = zip.CreateEntry(name, level).Open();
            stream.Write(content);
        }

        var data = RandomNumberGenerator.GetBytes(bytes);
        Write("anydef_bench_large/__init__.py",
            "import os\n\ndef size():\n    return os.path.getsize(os.path.join(os.path.dirname(__file__), 'data.bin'))\n"u8.ToArray(), CompressionLevel.Optimal);
        Write("anydef_bench_large/data.bin", data, CompressionLevel.NoCompression);
        Write("anydef_bench_large-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: anydef-bench-large\nVersion: 1.0\n\n"u8.ToArray(), CompressionLevel.Optimal);
        Write("anydef_bench_large-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: anydef-benchmarks\nRoot-Is-Purelib: true\nTag: py3-none-any\n"u8.ToArray(), CompressionLevel.Optimal);
        Write("anydef_bench_large-1.0.dist-info/RECORD", ""u8.ToArray(), CompressionLevel.Optimal);
    }
}
