using System.Text.RegularExpressions;

namespace AnyDefNet.Packages;

/// <summary>Package name rules: normalization as package indexes do it, and close names for a misspelled one.</summary>
internal static partial class PackageNames
{
    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")]
    private static partial Regex Valid();

    [GeneratedRegex("[-_.]+")]
    private static partial Regex Separators();

    public static string Normalize(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim();
        if (!Valid().IsMatch(trimmed))
        {
            throw new ArgumentException($"'{name}' is not a package name: use the name a package index knows it by, such as 'numpy' or 'python-dateutil' (no version, no extras).", nameof(name));
        }

        return Separators().Replace(trimmed, "-").ToLowerInvariant();
    }

    /// <summary>Up to five known names closest to <paramref name="name"/>, best first.</summary>
    public static IReadOnlyList<string> Closest(string name, IEnumerable<string> known) =>
        [.. known
            .Select(k => (Name: k, Distance: k.Contains(name, StringComparison.Ordinal) || name.Contains(k, StringComparison.Ordinal) ? 1 : Distance(name, k)))
            .Where(k => k.Distance <= Math.Max(2, name.Length / 3))
            .OrderBy(k => k.Distance).ThenBy(k => k.Name.Length).ThenBy(k => k.Name, StringComparer.Ordinal)
            .Take(5)
            .Select(k => k.Name)];

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
