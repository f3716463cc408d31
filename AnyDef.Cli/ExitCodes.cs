namespace AnyDefNet.Cli;

/// <summary>The exit codes scripts can rely on.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;
    public const int GenerationFailed = 2;
    public const int PythonRaised = 3;
    public const int Timeout = 4;
    public const int SandboxUnavailable = 5;
    public const int CheckFailed = 6;

    /// <summary>Reports an error as one clear line on standard error (more with --debug) and returns its exit code.</summary>
    public static int Report(Exception error, bool debug)
    {
        var (code, line) = error switch
        {
            PythonExecutionException e => (PythonRaised, $"{e.PythonType}: {e.PythonMessage}"),
            ResultConversionException or SandboxMemoryException => (PythonRaised, error.Message),
            SandboxTimeoutException => (Timeout, error.Message),
            SandboxUnavailableException or SandboxCrashedException => (SandboxUnavailable, error.Message),
            CodeGenerationException or ModelException or FunctionNotStoredException or UnreviewedCodeException => (GenerationFailed, error.Message),
            ArgumentException or FormatException or System.Text.Json.JsonException or FileNotFoundException => (Usage, error.Message),
            _ => (SandboxUnavailable, error.Message),
        };
        Console.Error.WriteLine("error: " + OneLine(line));
        if (debug)
        {
            if (error is PythonExecutionException p) Console.Error.WriteLine(p.PythonTraceback);
            if (error is CodeGenerationException g)
            {
                foreach (var a in g.Attempts) Console.Error.WriteLine($"--- attempt failed: {a.Failure}\n{a.Code ?? a.Reply}");
            }

            Console.Error.WriteLine(error);
        }

        return code;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
