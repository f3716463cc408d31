namespace AnyDefNet;

/// <summary>The Python code raised an exception; carries its type, message, traceback and the code itself.</summary>
public sealed class PythonExecutionException : AnyDefException
{
    /// <summary>Creates the exception.</summary>
    public PythonExecutionException(string functionName, string pythonType, string pythonMessage, string traceback, string code, string output)
        : base($"The Python function '{functionName}' raised {pythonType}: {pythonMessage}")
    {
        FunctionName = functionName;
        PythonType = pythonType;
        PythonMessage = pythonMessage;
        PythonTraceback = traceback;
        Code = code;
        Output = output;
    }

    /// <summary>The function that raised.</summary>
    public string FunctionName { get; }

    /// <summary>The Python exception type, such as <c>ZeroDivisionError</c>.</summary>
    public string PythonType { get; }

    /// <summary>The Python exception message.</summary>
    public string PythonMessage { get; }

    /// <summary>The Python traceback, limited to frames of the function's own code.</summary>
    public string PythonTraceback { get; }

    /// <summary>The Python code that ran.</summary>
    public string Code { get; }

    /// <summary>What the call printed before it raised.</summary>
    public string Output { get; }
}
