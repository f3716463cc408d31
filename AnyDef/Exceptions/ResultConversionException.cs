namespace AnyDefNet;

/// <summary>The Python result does not convert to the declared result type.</summary>
public sealed class ResultConversionException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public ResultConversionException(string functionName, string json, Type targetType, string code, Exception? innerException = null)
        : base($"The Python function '{functionName}' returned {Shorten(json)}, which " +
               (targetType == typeof(System.Text.Json.JsonElement) ? "is not JSON-serialisable data. " : $"does not convert to {targetType.Name}. ") +
               "Fix the stored code or regenerate it (delete its file in the store).", innerException)
    {
        FunctionName = functionName;
        Json = json;
        TargetType = targetType;
        Code = code;
    }

    /// <summary>The function whose result did not fit.</summary>
    public string FunctionName { get; }

    /// <summary>The JSON the function returned.</summary>
    public string Json { get; }

    /// <summary>The type the result was meant to convert to.</summary>
    public Type TargetType { get; }

    /// <summary>The Python code that ran.</summary>
    public string Code { get; }

    private static string Shorten(string s) => s.Length <= 200 ? s : s[..200] + "…";
}
