namespace AnyDefNet;

/// <summary>The language model call failed (HTTP error, authentication, unknown model, timeout).</summary>
public sealed class ModelException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public ModelException(string message, string? model, int? statusCode, Exception? innerException = null)
        : base(message, innerException)
    {
        Model = model;
        StatusCode = statusCode;
    }

    /// <summary>The model that was asked.</summary>
    public string? Model { get; }

    /// <summary>The HTTP status code, when the server answered.</summary>
    public int? StatusCode { get; }
}
