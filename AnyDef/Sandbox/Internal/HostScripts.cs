using System.Security.Cryptography;
using AnyDefNet.Packages;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// The host scripts a process loads are checked against their SHA-256 before every launch: the library's own scripts
/// (written to the cache, or published beside the application) against the ones built into this assembly. A changed
/// copy in the cache is written again from the assembly, once; a changed published copy is an error naming the file.
/// A folder chosen with <see cref="SandboxOptions.HostDirectory"/> holds the developer's own scripts (edited between
/// starts while working on them) and is loaded as it is.
/// </summary>
internal static class HostScripts
{
    internal static readonly string[] Names = ["host.ts", "worker.ts", "transport.ts", "runtime.py"];

    private static readonly Lazy<Dictionary<string, byte[]>> s_library = new(() => Names.ToDictionary(n => n, RuntimeLocation.Resource));

    private static readonly Lazy<Dictionary<string, string>> s_libraryHashes = new(() =>
        s_library.Value.ToDictionary(p => p.Key, p => Convert.ToHexString(SHA256.HashData(p.Value)).ToLowerInvariant()));

    /// <summary>Checks the scripts of <paramref name="location"/> (a few tens of kilobytes: well under a millisecond).</summary>
    /// <exception cref="SandboxUnavailableException">A script changed and cannot be restored.</exception>
    public static void Verify(RuntimeLocation location)
    {
        if (!location.HostScriptsFromLibrary) return;
        foreach (var name in Names)
        {
            var path = Path.Combine(location.HostDirectory, name);
            string actual;
            try
            {
                actual = VerifiedFiles.Hash(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new SandboxUnavailableException($"The sandbox host script '{path}' cannot be read ({ex.Message}).", ex);
            }

            var expected = s_libraryHashes.Value[name];
            if (actual == expected) continue;
            if (!location.IsPublished && Restore(path, name) == expected) continue;
            throw new SandboxUnavailableException(
                $"The sandbox host script '{path}' has SHA-256 {actual}, not {expected} (the one built into the AnyDef library): it changed on disk, " +
                "and no process was started from it. " +
                (location.IsPublished ? "Publish the application again (or restore the file from the published output)."
                    : $"Delete the folder '{location.HostDirectory}' (AnyDef writes it again), and find what changes files in the cache."));
        }
    }

    // The cache's copy is written again from the assembly, as a new file moved over the changed one.
    private static string? Restore(string path, string name)
    {
        var temp = $"{path}.{Environment.ProcessId}-{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllBytes(temp, s_library.Value[name]);
            File.Move(temp, path, overwrite: true);
            return VerifiedFiles.Hash(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return null;
        }
    }
}
