namespace AnyDefNet;

/// <summary>A package file could not be fetched from the package index (unreachable, or the file is missing there).</summary>
public sealed class PackageDownloadException : PackageException
{
    /// <summary>Creates the exception.</summary>
    public PackageDownloadException(string message, string url, Exception? innerException = null)
        : base(message, innerException) => Url = url;

    /// <summary>The address (or path) that failed.</summary>
    public string Url { get; }
}
