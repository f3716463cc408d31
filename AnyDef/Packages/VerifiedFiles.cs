using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace AnyDefNet.Packages;

/// <summary>
/// The files this application run has already hashed and found to be what they should be: each file that enters a
/// sandbox is hashed once per run here. What a process then loads is checked again by that process, on the very bytes
/// it loads, so a file swapped on disk after this check never takes effect.
/// </summary>
internal static class VerifiedFiles
{
    private static readonly ConcurrentDictionary<string, string> s_verified = new(StringComparer.Ordinal);

    /// <summary>Turns every check off, for the benchmark that measures what the checks cost; never set otherwise.</summary>
    internal static bool DisabledForBenchmarks { get; set; }

    /// <summary>Whether <paramref name="path"/> has the SHA-256 <paramref name="sha256"/>, hashing it only the first time it is asked this run.</summary>
    public static bool Check(string path, string sha256)
    {
        if (DisabledForBenchmarks || s_verified.TryGetValue(path, out var known) && known == sha256) return true;
        if (Hash(path) != sha256) return false;
        s_verified[path] = sha256;
        return true;
    }

    /// <summary>The SHA-256 this run verified <paramref name="path"/> with, if it did.</summary>
    public static string? Expected(string path) => s_verified.TryGetValue(path, out var sha) ? sha : null;

    /// <summary>Records a file this run wrote from bytes it hashed on the way.</summary>
    public static void Record(string path, string sha256) => s_verified[path] = sha256;

    /// <summary>Forgets a file found changed (by a process that loaded it), so it is hashed again.</summary>
    public static void Forget(string path) => s_verified.TryRemove(path, out _);

    /// <summary>The SHA-256 of a file, lower-case hex.</summary>
    public static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }
}
