using System.Globalization;
using System.Text;

namespace AnyDefNet;

/// <summary>
/// A folder of reviewed functions: one readable <c>.py</c> file per function, named after it and its spec hash, with
/// a short metadata header. A person can read, edit and commit the files; an edited file is used as edited.
/// </summary>
public sealed class DirectoryCodeStore
{
    private const string Marker = "# anydef:";

    /// <summary>Uses (and, on first write, creates) the given folder.</summary>
    public DirectoryCodeStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    /// <summary>The folder the store reads and writes.</summary>
    public string Directory { get; }

    /// <summary>The file that holds (or would hold) the code of <paramref name="spec"/>.</summary>
    public string PathFor(FunctionSpec spec) => Path.Combine(Directory, FileName(spec));

    internal static string FileName(FunctionSpec spec) => $"{spec.Name}.{spec.Hash[..12]}.py";

    /// <summary>Reads the stored code of <paramref name="spec"/>, or null when there is none.</summary>
    /// <exception cref="AnyDefException">The file exists but was written for another spec.</exception>
    public async Task<StoredFunction?> ReadAsync(FunctionSpec spec, CancellationToken cancellationToken = default)
    {
        var path = PathFor(spec);
        if (!File.Exists(path)) return null;
        var text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        var stored = Parse(text, path);
        if (stored.SpecHash is { } hash && !string.Equals(hash, spec.Hash, StringComparison.OrdinalIgnoreCase))
        {
            throw new AnyDefException($"The stored file '{path}' belongs to spec {hash}, not {spec.Hash}. Delete or rename it so the function can be regenerated.");
        }

        return stored;
    }

    /// <summary>Writes newly generated code, unless a file for the spec already exists (a person's edits win).</summary>
    public Task<string> WriteAsync(FunctionSpec spec, string code, string source, CancellationToken cancellationToken = default) =>
        WriteAsync(spec, code, source, packages: null, usage: null, cancellationToken);

    /// <summary>Writes newly generated code with the tokens its generation used in the header, unless a file for the spec
    /// already exists (a person's edits win).</summary>
    public Task<string> WriteAsync(FunctionSpec spec, string code, string source, TokenUsage? usage, CancellationToken cancellationToken = default) =>
        WriteAsync(spec, code, source, packages: null, usage, cancellationToken);

    /// <summary>Writes newly generated code with the package set it was checked against and the tokens it used in the header.</summary>
    internal async Task<string> WriteAsync(FunctionSpec spec, string code, string source, string? packages, TokenUsage? usage = null, CancellationToken cancellationToken = default)
    {
        var path = PathFor(spec);
        System.IO.Directory.CreateDirectory(Directory);
        if (File.Exists(path)) return path;
        var header = new StringBuilder()
            .AppendLine($"{Marker} {spec.Name}")
            .AppendLine($"# spec: {spec.Hash}")
            .AppendLine($"# signature: {spec.Signature}")
            .AppendLine($"# source: {source}")
            .AppendLine($"# generated: {DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)}");
        if (usage is not null) header.AppendLine(CultureInfo.InvariantCulture, $"# tokens: {usage.InputTokens} input, {usage.OutputTokens} output");
        header
            .AppendLine("# reviewed: false")
            .Append(packages is null ? "" : $"# packages: {packages}\n")
            .AppendLine("# description:");
        foreach (var line in spec.Description.Split('\n')) header.AppendLine("#   " + line.TrimEnd());
        header.AppendLine("# (edit the code below freely; keep this header so AnyDef can find the file)").AppendLine();
        var temp = path + $".{Environment.ProcessId}.tmp";
        await File.WriteAllTextAsync(temp, header + code, new UTF8Encoding(false), cancellationToken).ConfigureAwait(false);
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
        }

        return path;
    }

    /// <summary>Every stored function, for listing.</summary>
    public IEnumerable<StoredFunction> List() =>
        System.IO.Directory.Exists(Directory)
            ? System.IO.Directory.EnumerateFiles(Directory, "*.py").Order(StringComparer.Ordinal).Select(p => Parse(File.ReadAllText(p), p))
            : [];

    internal static StoredFunction Parse(string text, string path)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var i = 0;
        for (; i < lines.Length && lines[i].StartsWith('#'); i++)
        {
            var body = lines[i].TrimStart('#').Trim();
            var colon = body.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && !headers.ContainsKey(body[..colon].Trim())) headers[body[..colon].Trim()] = body[(colon + 1)..].Trim();
        }

        var code = string.Join('\n', lines.Skip(i)).Trim('\n') + "\n";
        return new StoredFunction(path, headers.GetValueOrDefault("anydef") ?? Path.GetFileNameWithoutExtension(path), headers.GetValueOrDefault("spec"),
            headers.GetValueOrDefault("source"), string.Equals(headers.GetValueOrDefault("reviewed"), "true", StringComparison.OrdinalIgnoreCase), code)
        {
            Packages = headers.GetValueOrDefault("packages"),
            Usage = ParseUsage(headers.GetValueOrDefault("tokens")),
        };
    }

    // "123 input, 45 output"
    private static TokenUsage? ParseUsage(string? value)
    {
        var parts = value?.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries);
        return parts is [var input, "input", var output, "output"]
            && long.TryParse(input, NumberStyles.None, CultureInfo.InvariantCulture, out var i)
            && long.TryParse(output, NumberStyles.None, CultureInfo.InvariantCulture, out var o)
            ? new TokenUsage(i, o)
            : null;
    }
}
