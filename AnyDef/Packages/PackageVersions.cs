using System.Globalization;

namespace AnyDefNet.Packages;

/// <summary>
/// Version specifiers as a wheel's <c>Requires-Dist</c> gives them (<c>&gt;=1.2,&lt;2</c>, <c>~=1.4</c>, <c>==1.*</c>),
/// checked against the version that was resolved: the release numbers compare numerically, a pre-release or
/// development suffix sorts before its release and a post-release after it.
/// </summary>
internal static class PackageVersions
{
    private static readonly string[] Operators = ["===", "~=", "==", "!=", "<=", ">=", "<", ">"];

    /// <summary>Whether <paramref name="version"/> meets every clause of <paramref name="specifier"/> (an empty one is met by any).</summary>
    /// <exception cref="FormatException">A clause is not a version specifier.</exception>
    public static bool Satisfies(string version, string specifier)
    {
        foreach (var raw in specifier.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var op = Operators.FirstOrDefault(o => raw.StartsWith(o, StringComparison.Ordinal)) ?? throw new FormatException($"'{raw}' is not a version specifier");
            var wanted = raw[op.Length..].Trim();
            if (wanted.Length == 0) throw new FormatException($"'{raw}' names no version");
            var met = op switch
            {
                "===" => string.Equals(version, wanted, StringComparison.OrdinalIgnoreCase),
                "==" or "!=" when wanted.EndsWith(".*", StringComparison.Ordinal) => StartsWithRelease(version, wanted[..^2]) == (op == "=="),
                "==" => Compare(version, wanted) == 0,
                "!=" => Compare(version, wanted) != 0,
                "<=" => Compare(version, wanted) <= 0,
                ">=" => Compare(version, wanted) >= 0,
                "<" => Compare(version, wanted) < 0,
                ">" => Compare(version, wanted) > 0,
                _ => Compare(version, wanted) >= 0 && StartsWithRelease(version, string.Join('.', Release(wanted).SkipLast(1))),
            };
            if (!met) return false;
        }

        return true;
    }

    private static bool StartsWithRelease(string version, string prefix)
    {
        var mine = Release(version);
        var theirs = Release(prefix);
        return mine.Count >= theirs.Count ? mine.Take(theirs.Count).SequenceEqual(theirs) : mine.Concat(Enumerable.Repeat(0L, theirs.Count - mine.Count)).SequenceEqual(theirs);
    }

    private static int Compare(string a, string b)
    {
        var (ra, sa) = (Release(a), Suffix(a));
        var (rb, sb) = (Release(b), Suffix(b));
        for (var i = 0; i < Math.Max(ra.Count, rb.Count); i++)
        {
            var c = (i < ra.Count ? ra[i] : 0).CompareTo(i < rb.Count ? rb[i] : 0);
            if (c != 0) return c;
        }

        return Rank(sa).CompareTo(Rank(sb)) is var r && r != 0 ? r : string.CompareOrdinal(sa, sb);
    }

    // A release with no suffix sits between its pre-releases (and development releases) and its post-releases.
    private static int Rank(string suffix) => suffix.Length == 0 ? 0 : suffix.TrimStart('.', '-', '_').StartsWith("post", StringComparison.Ordinal) ? 1 : -1;

    private static List<long> Release(string version)
    {
        var v = version.Trim().TrimStart('v', 'V');
        if (v.IndexOf('!', StringComparison.Ordinal) is var bang && bang >= 0) v = v[(bang + 1)..];
        var end = 0;
        while (end < v.Length && (char.IsAsciiDigit(v[end]) || v[end] == '.' && end + 1 < v.Length && char.IsAsciiDigit(v[end + 1]))) end++;
        if (end == 0) throw new FormatException($"'{version}' is not a version");
        return [.. v[..end].Split('.').Select(p => long.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture))];
    }

    private static string Suffix(string version)
    {
        var v = version.Trim().TrimStart('v', 'V').ToLowerInvariant();
        if (v.IndexOf('!', StringComparison.Ordinal) is var bang && bang >= 0) v = v[(bang + 1)..];
        if (v.IndexOf('+', StringComparison.Ordinal) is var local && local >= 0) v = v[..local];
        var end = 0;
        while (end < v.Length && (char.IsAsciiDigit(v[end]) || v[end] == '.' && end + 1 < v.Length && char.IsAsciiDigit(v[end + 1]))) end++;
        return v[end..];
    }
}
