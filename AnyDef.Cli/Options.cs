using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Cli;

/// <summary>Options shared by several commands, and their parsing.</summary>
internal static class Options
{
    public static Option<string?> Store() => new("--store")
    {
        Description = "The store directory (default: ANYDEF_STORE_DIR).",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ANYDEF_STORE_DIR") is { Length: > 0 } d ? d : null,
    };

    public static Option<string[]> Packages() => new("--packages")
    {
        Description = "Python packages the code may import, comma-separated or repeated (Pyodide's packages, or wheels in --wheels).",
        AllowMultipleArgumentsPerToken = true,
    };

    public static Option<string?> PackageIndex() => new("--package-index")
    {
        Description = "Where Pyodide's package files come from: a mirror URL or a folder (default: ANYDEF_PACKAGE_INDEX, else the official Pyodide distribution).",
    };

    public static Option<string?> Wheels() => new("--wheels") { Description = "A folder of pure-Python wheels (default: ANYDEF_WHEEL_DIR)." };

    /// <summary>The names given to <c>--packages</c>, split at commas.</summary>
    public static PackageSet PackageNames(string[]? values) =>
        PackageSet.From((values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    public static Option<bool> Debug() => new("--debug") { Description = "Print the code, where it came from, and full errors to standard error." };

    public static T ParseJson<T>(string text, string option, string what) where T : JsonNode
    {
        try
        {
            return JsonNode.Parse(text) as T ?? throw new ArgumentException($"{option} must be {what}, got: {text}");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"{option} is not valid JSON ({ex.Message}); it must be {what}.");
        }
    }

    public static TimeSpan Seconds(double seconds) =>
        seconds > 0 ? TimeSpan.FromSeconds(seconds) : throw new ArgumentException($"--timeout must be a positive number of seconds, got {seconds}.");
}
