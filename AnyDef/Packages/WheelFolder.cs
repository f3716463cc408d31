using System.IO.Compression;

namespace AnyDefNet.Packages;

/// <summary>A folder of wheels the user provides (for example from <c>pip download</c>); only pure-Python wheels can run in the sandbox.</summary>
internal sealed class WheelFolder
{
    internal sealed record Wheel(string Name, string Version, string Path, bool Pure);

    /// <summary>One <c>Requires-Dist</c> of a wheel: the distribution's normalized name and its version specifier (empty for any version).</summary>
    internal sealed record Requirement(string Name, string Specifier);

    private WheelFolder(string directory, Dictionary<string, Wheel> wheels)
    {
        Directory = directory;
        Wheels = wheels;
    }

    public string Directory { get; }

    public IReadOnlyDictionary<string, Wheel> Wheels { get; }

    public static WheelFolder Scan(string directory)
    {
        var full = System.IO.Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new PackageException($"The wheel folder '{full}' does not exist. Create it (pip download NAME --no-deps -d FOLDER) or " +
                $"unset {nameof(SandboxOptions)}.{nameof(SandboxOptions.WheelDirectory)}.");
        }

        var wheels = new Dictionary<string, Wheel>(StringComparer.Ordinal);
        foreach (var path in System.IO.Directory.EnumerateFiles(full, "*.whl").Order(StringComparer.Ordinal))
        {
            // name-version(-build)?-python-abi-platform.whl
            var parts = System.IO.Path.GetFileNameWithoutExtension(path).Split('-');
            if (parts.Length < 5) continue;
            var name = PackageNames.Normalize(parts[0]);
            wheels.TryAdd(name, new Wheel(name, parts[1], path, parts[^1] == "any"));
        }

        return new WheelFolder(full, wheels);
    }

    /// <summary>The top-level modules a wheel provides, and the distributions it requires with their version specifiers.</summary>
    public static (IReadOnlyList<string> Imports, IReadOnlyList<Requirement> Requires) Inspect(string wheelPath)
    {
        try
        {
            using var zip = ZipFile.OpenRead(wheelPath);
            var imports = new SortedSet<string>(StringComparer.Ordinal);
            var requires = new List<Requirement>();
            foreach (var entry in zip.Entries)
            {
                var slash = entry.FullName.IndexOf('/', StringComparison.Ordinal);
                var top = slash < 0 ? entry.FullName : entry.FullName[..slash];
                if (top.EndsWith(".dist-info", StringComparison.Ordinal))
                {
                    if (entry.FullName.EndsWith("/METADATA", StringComparison.Ordinal)) requires.AddRange(Requirements(entry));
                    continue;
                }

                if (top.EndsWith(".data", StringComparison.Ordinal)) continue;
                if (slash < 0 && top.EndsWith(".py", StringComparison.Ordinal)) imports.Add(top[..^3]);
                else if (slash > 0 && Specs.Naming.IsPythonIdentifier(top)) imports.Add(top);
            }

            return ([.. imports], requires);
        }
        catch (InvalidDataException ex)
        {
            throw new PackageException($"The wheel '{wheelPath}' is not a valid wheel (a zip archive): {ex.Message}", ex);
        }
    }

    // Requirements with environment markers (extras, Python versions) are left to the user to declare.
    private static IEnumerable<Requirement> Requirements(ZipArchiveEntry metadata)
    {
        using var reader = new StreamReader(metadata.Open());
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0) yield break;
            if (!line.StartsWith("Requires-Dist:", StringComparison.OrdinalIgnoreCase) || line.Contains(';', StringComparison.Ordinal)) continue;
            var spec = line["Requires-Dist:".Length..].Trim();
            var end = 0;
            while (end < spec.Length && (char.IsLetterOrDigit(spec[end]) || spec[end] is '.' or '_' or '-')) end++;
            if (end == 0) continue;
            var rest = spec[end..].Trim();
            // Extras ("name[extra]") add requirements the wheel's own metadata lists under markers: the name's version is what counts.
            if (rest.StartsWith('[') && rest.IndexOf(']', StringComparison.Ordinal) is var close && close > 0) rest = rest[(close + 1)..].Trim();
            if (rest.StartsWith('(') && rest.EndsWith(')')) rest = rest[1..^1].Trim();
            yield return new Requirement(PackageNames.Normalize(spec[..end]), rest);
        }
    }
}
