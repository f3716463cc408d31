namespace AnyDefNet.Packages;

/// <summary>One package file, verified and in the per-user cache, ready for a sandbox to read.</summary>
/// <param name="Name">The normalized distribution name.</param>
/// <param name="Version">The version the lock file or the wheel's name gives.</param>
/// <param name="FileName">The file's name at the index (or in the wheel folder).</param>
/// <param name="Sha256">The file's SHA-256, lower-case hex.</param>
/// <param name="Path">The verified file in the cache.</param>
/// <param name="Imports">The top-level modules it provides.</param>
/// <param name="Pure">Whether it is pure Python (no compiled libraries to load).</param>
internal sealed record InstalledPackage(string Name, string Version, string FileName, string Sha256, string Path, IReadOnlyList<string> Imports, bool Pure)
{
    /// <summary>How the package appears in a stored file's header: <c>name==version sha256:hex</c>.</summary>
    public string Record => $"{Name}=={Version} sha256:{Sha256}";

    /// <summary>The record of a whole set, in a stable order.</summary>
    public static string RecordOf(IEnumerable<InstalledPackage> packages) =>
        string.Join(", ", packages.Select(p => p.Record).Order(StringComparer.Ordinal));
}
