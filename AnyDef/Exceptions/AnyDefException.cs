namespace AnyDefNet;

/// <summary>The base of every error AnyDef raises; catch it to handle all of them.</summary>
public class AnyDefException : Exception
{
    /// <summary>Creates the exception with a message that says what went wrong and what to do.</summary>
    public AnyDefException(string message, Exception? innerException = null)
        : base(message, innerException) { }
}
