namespace AnyDefNet;

/// <summary>A declared package is neither in the Pyodide lock file nor among the user's wheels.</summary>
public sealed class PackageNotFoundException : PackageException
{
    /// <summary>Creates the exception.</summary>
    public PackageNotFoundException(string packageName, IReadOnlyList<string> closeNames, string? wheelDirectory)
        : base($"The package '{packageName}' is not in the Pyodide lock file" +
               (wheelDirectory is null ? "" : $" nor among the wheels in '{wheelDirectory}'") + ". " +
               (closeNames.Count > 0 ? $"Did you mean {string.Join(", ", closeNames.Select(n => $"'{n}'"))}? " : "") +
               $"Pure-Python packages that Pyodide does not ship can be given as wheels (pip download NAME --no-deps -d FOLDER) in " +
               $"{nameof(SandboxOptions)}.{nameof(SandboxOptions.WheelDirectory)}.")
    {
        PackageName = packageName;
        CloseNames = closeNames;
    }

    /// <summary>The name that was not found.</summary>
    public string PackageName { get; }

    /// <summary>Known names close to it, best first.</summary>
    public IReadOnlyList<string> CloseNames { get; }
}
