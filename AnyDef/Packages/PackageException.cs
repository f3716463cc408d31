namespace AnyDefNet;

/// <summary>A Python package could not be found, fetched, verified or matched; the message says which and what to do.</summary>
public class PackageException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public PackageException(string message, Exception? innerException = null)
        : base(message, innerException) { }
}
