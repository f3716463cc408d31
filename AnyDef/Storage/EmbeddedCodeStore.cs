using System.Reflection;

namespace AnyDefNet;

/// <summary>
/// The store embedded in an assembly: the package's build files turn the store folder's <c>.py</c> files into resources
/// named <c>anydef-store/&lt;file&gt;</c>, so a deployed application needs no folder beside it.
/// </summary>
internal static class EmbeddedCodeStore
{
    public const string ResourcePrefix = "anydef-store/";

    /// <summary>Reads the embedded code of <paramref name="spec"/>, or null when the assembly has none.</summary>
    /// <exception cref="AnyDefException">The resource exists but was written for another spec.</exception>
    public static StoredFunction? Read(Assembly assembly, FunctionSpec spec)
    {
        var resource = ResourcePrefix + DirectoryCodeStore.FileName(spec);
        using var stream = assembly.GetManifestResourceStream(resource);
        if (stream is null) return null;
        using var reader = new StreamReader(stream);
        var where = $"{resource} (embedded in {assembly.GetName().Name})";
        var stored = DirectoryCodeStore.Parse(reader.ReadToEnd(), where);
        if (stored.SpecHash is { } hash && !string.Equals(hash, spec.Hash, StringComparison.OrdinalIgnoreCase))
        {
            throw new AnyDefException($"The stored file {where} belongs to spec {hash}, not {spec.Hash}. Delete or rename it in the store folder and rebuild.");
        }

        return stored;
    }
}
