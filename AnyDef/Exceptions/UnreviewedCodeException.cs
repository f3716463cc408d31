namespace AnyDefNet;

/// <summary>Frozen mode is on and the stored code of the function is not marked reviewed (<c># reviewed: false</c>).</summary>
public sealed class UnreviewedCodeException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public UnreviewedCodeException(string functionName, string path)
        : base($"Frozen mode runs reviewed code only, and the stored code of '{functionName}' ({path}) is marked 'reviewed: false'. " +
               $"Review it, set '# reviewed: true' and commit it; or set {nameof(AnyDefOptions)}.{nameof(AnyDefOptions.AllowUnreviewed)} to run it anyway.")
    {
        FunctionName = functionName;
        Path = path;
    }

    /// <summary>The function whose code is not reviewed.</summary>
    public string FunctionName { get; }

    /// <summary>The stored file (or embedded resource) of the code.</summary>
    public string Path { get; }
}
