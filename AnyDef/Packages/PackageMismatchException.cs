namespace AnyDefNet;

/// <summary>A stored function was generated and reviewed against other package versions than the ones installed now.</summary>
public sealed class PackageMismatchException : PackageException
{
    /// <summary>Creates the exception.</summary>
    public PackageMismatchException(string path, string recorded, string installed)
        : base($"The stored file '{path}' was written for the packages '{recorded}', but the installed packages are '{installed}'. " +
               "Check the code against the installed versions, then update its '# packages:' header line to the installed set " +
               "(or delete the file to generate the function again).")
    {
        Path = path;
        Recorded = recorded;
        Installed = installed;
    }

    /// <summary>The stored file.</summary>
    public string Path { get; }

    /// <summary>The package set its header records.</summary>
    public string Recorded { get; }

    /// <summary>The package set resolved now.</summary>
    public string Installed { get; }
}
