namespace AnyDefNet;

/// <summary>A fetched package file's SHA-256 is not the one the lock file names; the file was not kept.</summary>
public sealed class PackageHashMismatchException : PackageException
{
    /// <summary>Creates the exception.</summary>
    public PackageHashMismatchException(string fileName, string url, string expectedSha256, string actualSha256)
        : base($"The package file '{fileName}' from {url} has SHA-256 {actualSha256}, but the lock file expects {expectedSha256}. " +
               "It was not kept. The index (or mirror) serves a different or damaged file: check that it mirrors the same Pyodide " +
               $"version, or point {nameof(SandboxOptions)}.{nameof(SandboxOptions.PackageIndex)} at a folder made by 'anydef packages fetch'.")
    {
        FileName = fileName;
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    internal PackageHashMismatchException(string fileName, string expectedSha256, string actualSha256, string message, Exception? innerException)
        : base(message, innerException)
    {
        FileName = fileName;
        ExpectedSha256 = expectedSha256;
        ActualSha256 = actualSha256;
    }

    /// <summary>The file whose content did not match.</summary>
    public string FileName { get; }

    /// <summary>The SHA-256 the lock file names.</summary>
    public string ExpectedSha256 { get; }

    /// <summary>The SHA-256 of what was received.</summary>
    public string ActualSha256 { get; }
}
