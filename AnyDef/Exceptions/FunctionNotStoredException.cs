namespace AnyDefNet;

/// <summary>Frozen mode is on and the store holds no code for the function.</summary>
public sealed class FunctionNotStoredException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public FunctionNotStoredException(string functionName, string specHash, string? storeDirectory)
        : base($"Frozen mode is on and no stored code exists for '{functionName}' (spec {specHash}) in " +
               $"{storeDirectory ?? "(no store directory configured)"}. Generate it once with frozen mode off and a model " +
               "configured (OPENAI_API_KEY or OPENAI_BASE_URL), review the new .py file and commit it.")
    {
        FunctionName = functionName;
        SpecHash = specHash;
        StoreDirectory = storeDirectory;
    }

    /// <summary>The function that is missing.</summary>
    public string FunctionName { get; }

    /// <summary>The spec hash the store was searched for.</summary>
    public string SpecHash { get; }

    /// <summary>The store directory that was searched.</summary>
    public string? StoreDirectory { get; }
}
