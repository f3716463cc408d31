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
        Path = "result";
    }

    /// <summary>Creates the exception for a value at <paramref name="path"/> that does not fit.</summary>
    /// <param name="functionName">The function whose result did not fit.</param>
    /// <param name="json">The JSON the function returned.</param>
    /// <param name="targetType">The declared result type.</param>
    /// <param name="code">The Python code that ran.</param>
    /// <param name="innerException">What the conversion raised.</param>
    /// <param name="path">Where in the result, such as <c>result.tags[1]</c>.</param>
    /// <param name="pythonType">The Python type of the value found there.</param>
    /// <param name="detail">Why it does not fit, naming the C# type.</param>
    public ResultConversionException(string functionName, string json, Type targetType, string code, Exception? innerException, string path, string pythonType,
        string detail)
        : base($"The Python function '{functionName}' returned {Shorten(json)}, which does not convert to {FunctionSpec.FriendlyName(targetType)}: " +
               $"at {path} (a Python {pythonType}): {detail} Fix the stored code or regenerate it (delete its file in the store).", innerException)
    {
        FunctionName = functionName;
        Json = json;
        TargetType = targetType;
        Code = code;
        Path = path;
        PythonType = pythonType;
    }

    /// <summary>Where in the result the value that does not fit is, such as <c>result.tags[1]</c>.</summary>
    public string Path { get; }

    /// <summary>The Python type of the value at <see cref="Path"/>, when known.</summary>
    public string? PythonType { get; }

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
