using System.Collections.Concurrent;
using System.Security.Cryptography;
using AnyDefNet.Packages;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>
/// The host scripts a process loads are checked against their SHA-256 before every launch: the library's own scripts
/// (written to the cache, or published beside the application) against the ones built into this assembly, a folder
/// chosen with <see cref="SandboxOptions.HostDirectory"/> against what it held when this run first loaded it. A changed
/// copy in the cache is written again from the assembly, once; anything else that changed is an error naming the file.
/// </summary>
internal static class HostScripts
{
    internal static readonly string[] Names = ["host.ts", "worker.ts", "transport.ts", "runtime.py"];

    private static readonly ConcurrentDictionary<string, string> s_pinned = new(StringComparer.Ordinal);

    private static readonly Lazy<Dictionary<string, byte[]>> s_library = new(() => Names.ToDictionary(n => n, RuntimeLocation.Resource));

    private static readonly Lazy<Dictionary<string, string>> s_libraryHashes = new(() =>
        s_library.Value.ToDictionary(p => p.Key, p => Convert.ToHexString(SHA256.HashData(p.Value)).ToLowerInvariant()));

    /// <summary>Checks the scripts of <paramref name="location"/> (a few tens of kilobytes: well under a millisecond).</summary>
    /// <exception cref="SandboxUnavailableException">A script changed and cannot be restored.</exception>
    public static void Verify(RuntimeLocation location)
    {
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

            var expected = location.HostScriptsFromLibrary ? s_libraryHashes.Value[name] : s_pinned.GetOrAdd(path, actual);
            if (actual == expected) continue;
            if (location.HostScriptsFromLibrary && !location.IsPublished && Restore(path, name) == expected) continue;
            throw new SandboxUnavailableException(
                $"The sandbox host script '{path}' has SHA-256 {actual}, not {expected} " +
                (location.HostScriptsFromLibrary ? "(the one built into the AnyDef library)" : "(what it held when this application first loaded it)") +
                ": it changed on disk, and no process was started from it. " +
                (location.IsPublished && location.HostScriptsFromLibrary ? "Publish the application again (or restore the file from the published output)."
                    : location.HostScriptsFromLibrary ? $"Delete the folder '{location.HostDirectory}' (AnyDef writes it again), and find what changes files in the cache."
                    : $"Restart the application to load the new scripts of {nameof(SandboxOptions)}.{nameof(SandboxOptions.HostDirectory)}."));
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
