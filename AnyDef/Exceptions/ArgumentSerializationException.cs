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
    }

    /// <summary>The function being called.</summary>
    public string FunctionName { get; }

    /// <summary>The arguments type that failed to serialise.</summary>
    public Type ArgumentsType { get; }
}
