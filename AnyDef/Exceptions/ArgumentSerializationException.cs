namespace AnyDefNet;

/// <summary>An argument could not be turned into JSON for the sandbox.</summary>
public sealed class ArgumentSerializationException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public ArgumentSerializationException(string functionName, Type argumentsType, Exception innerException)
        : base($"The arguments of '{functionName}' ({argumentsType.Name}) cannot be serialised to JSON: {innerException.Message} " +
               "Use plain data types (numbers, strings, lists, dictionaries with string keys, records).", innerException)
    {
        FunctionName = functionName;
        ArgumentsType = argumentsType;
        Path = "";
    }

    /// <summary>Creates the exception for one argument, naming where in it the value that cannot cross is.</summary>
    /// <param name="functionName">The function being called.</param>
    /// <param name="argumentsType">The arguments type (the record of an <c>AnyDef.Function</c>, the parameter's type of an [AnyDef] method).</param>
    /// <param name="path">The parameter and the place inside it, such as <c>shape.tags[1]</c>.</param>
    /// <param name="argumentType">The C# type of the parameter.</param>
    /// <param name="pythonHint">The parameter's Python type hint.</param>
    /// <param name="innerException">What the serializer raised.</param>
    public ArgumentSerializationException(string functionName, Type argumentsType, string path, Type argumentType, string pythonHint, Exception innerException)
        : base($"The argument {path} of '{functionName}' (C# {FunctionSpec.FriendlyName(argumentType)}, Python {pythonHint}) cannot cross to Python: " +
               $"{Internal.Values.ResultReader.Detail(innerException)}", innerException)
    {
        FunctionName = functionName;
        ArgumentsType = argumentsType;
        Path = path;
    }

    /// <summary>The parameter, and the place inside it, whose value cannot cross (empty when unknown).</summary>
    public string Path { get; }

    /// <summary>The function being called.</summary>
    public string FunctionName { get; }

    /// <summary>The arguments type that failed to serialise.</summary>
    public Type ArgumentsType { get; }
}
