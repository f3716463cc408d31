using System.Collections;
using System.Runtime.CompilerServices;

namespace AnyDefNet;

/// <summary>
/// The Python packages a function may import, by distribution name (<c>numpy</c>, <c>python-dateutil</c>): normalized,
/// sorted and without duplicates, so two sets with the same packages are equal.
/// </summary>
/// <example><c>new AnyDefOptions { Packages = ["regex", "python-dateutil"] }</c></example>
[CollectionBuilder(typeof(PackageSet), nameof(Create))]
public sealed class PackageSet : IReadOnlyList<string>, IEquatable<PackageSet>
{
    private readonly string[] _names;

    private PackageSet(string[] names) => _names = names;

    /// <summary>No packages: the standard library only.</summary>
    public static PackageSet Empty { get; } = new([]);

    /// <summary>Builds a set from package names; each is normalized the way Python's package indexes do (<c>Python_Dateutil</c> is <c>python-dateutil</c>).</summary>
    /// <exception cref="ArgumentException">A name is empty or has characters no package name has.</exception>
    public static PackageSet Create(ReadOnlySpan<string> names)
    {
        if (names.IsEmpty) return Empty;
        var normalized = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var name in names) normalized.Add(Packages.PackageNames.Normalize(name));
        return new([.. normalized]);
    }

    /// <summary>Builds a set from package names, as <see cref="Create(ReadOnlySpan{string})"/>.</summary>
    public static PackageSet From(IEnumerable<string>? names) => names is null ? Empty : Create([.. names]);

    /// <summary>The packages of both sets.</summary>
    public PackageSet Union(PackageSet other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return other.Count == 0 ? this : Count == 0 ? other : Create([.. _names, .. other._names]);
    }

    /// <inheritdoc/>
    public string this[int index] => _names[index];

    /// <inheritdoc/>
    public int Count => _names.Length;

    /// <inheritdoc/>
    public IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)_names).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    public bool Equals(PackageSet? other) => other is not null && _names.AsSpan().SequenceEqual(other._names);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is PackageSet other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var n in _names) hash.Add(n, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    /// <summary>The names, comma-separated.</summary>
    public override string ToString() => string.Join(", ", _names);
}
