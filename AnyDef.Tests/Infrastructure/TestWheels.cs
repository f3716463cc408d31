using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>
/// Real pure-Python wheels built by the tests (a wheel is a zip with a <c>.dist-info</c>), and a pyodide-lock.json that
/// lists them with their SHA-256 and dependencies. Names are unique per instance so tests never share cached files.
/// </summary>
public sealed class TestWheels
{
    private readonly JsonObject _packages = [];

    public TestWheels()
    {
        Folder = TestEnvironment.TempDir();
        Suffix = Guid.NewGuid().ToString("N")[..8];
    }

    /// <summary>The folder holding the wheels (what the index serves).</summary>
    public string Folder { get; }

    /// <summary>Makes names unique to this instance.</summary>
    public string Suffix { get; }

    /// <summary>The lock file listing every wheel added with <see cref="AddToLock"/>.</summary>
    public string LockFile => Path.Combine(Folder, "pyodide-lock.json");

    /// <summary>Builds a wheel whose module <paramref name="module"/> has <paramref name="source"/> as its <c>__init__.py</c>.</summary>
    public Wheel Build(string distribution, string module, string source, string version = "1.0", params string[] requires) =>
        Build(distribution, module, source, version, "py3-none-any", requires);

    /// <summary>Builds a wheel with the given tag (such as Pyodide's <c>cp314-cp314-pyemscripten_2026_0_wasm32</c>).</summary>
    public Wheel Build(string distribution, string module, string source, string version, string tag, params string[] requires)
    {
        var fileName = $"{distribution.Replace('-', '_')}-{version}-{tag}.whl";
        var path = Path.Combine(Folder, fileName);
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            var info = $"{distribution.Replace('-', '_')}-{version}.dist-info";
            Write(zip, $"{module}/__init__.py", source);
            Write(zip, $"{info}/METADATA", $"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n" + string.Concat(requires.Select(r => $"Requires-Dist: {r}\n")) + "\n");
            Write(zip, $"{info}/WHEEL", $"Wheel-Version: 1.0\nGenerator: anydef-tests\nRoot-Is-Purelib: true\nTag: {tag}\n");
            Write(zip, $"{info}/top_level.txt", module + "\n");
            Write(zip, $"{info}/RECORD", "");
        }

        return new Wheel(distribution, version, fileName, path, Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant(), module);
    }

    /// <summary>Builds and locks a pair of wheels, <c>anydef-{name}base</c> (<c>PREFIX = 'Hello, '</c>) and <c>anydef-{name}greet</c>
    /// (<c>hello(name)</c>, which imports the prefix from the first), so a function's package has a dependency.</summary>
    public (Wheel Base, Wheel Greet) BuildGreeting(string name = "")
    {
        var baseWheel = Build($"anydef-{name}base-{Suffix}", $"anydef_{name}base_{Suffix}", "PREFIX = 'Hello, '\n");
        var greet = Build($"anydef-{name}greet-{Suffix}", $"anydef_{name}greet_{Suffix}",
            $"from anydef_{name}base_{Suffix} import PREFIX\n\ndef hello(name):\n    return PREFIX + name + '!'\n");
        AddToLock(baseWheel).AddToLock(greet, depends: [baseWheel.Distribution]);
        return (baseWheel, greet);
    }

    /// <summary>Lists the wheel in the lock file, with its SHA-256 (or a wrong one) and dependencies.</summary>
    public TestWheels AddToLock(Wheel wheel, string[]? depends = null, string? sha256 = null)
    {
        _packages[wheel.Distribution] = new JsonObject
        {
            ["name"] = wheel.Distribution,
            ["version"] = wheel.Version,
            ["file_name"] = wheel.FileName,
            ["sha256"] = sha256 ?? wheel.Sha256,
            ["depends"] = new JsonArray([.. (depends ?? []).Select(d => (JsonNode)d)]),
            ["imports"] = new JsonArray(wheel.Module),
            ["install_dir"] = "site",
            ["package_type"] = "package",
        };
        var lockFile = new JsonObject
        {
            ["info"] = new JsonObject { ["arch"] = "wasm32", ["platform"] = "test" },
            ["packages"] = _packages.DeepClone(),
        };
        File.WriteAllText(LockFile, lockFile.ToJsonString());
        return this;
    }

    private static void Write(ZipArchive zip, string name, string text)
    {
        using var writer = new StreamWriter(zip.CreateEntry(name).Open());
        writer.Write(text);
    }

    public sealed record Wheel(string Distribution, string Version, string FileName, string Path, string Sha256, string Module);
}
