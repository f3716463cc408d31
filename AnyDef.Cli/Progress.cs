namespace AnyDefNet.Cli;

/// <summary>Progress for long steps, on standard error and only when it is a terminal: stdout stays clean for results.</summary>
internal static class Progress
{
    public static void Say(string message)
    {
        if (!Console.IsErrorRedirected) Console.Error.WriteLine("… " + message);
    }
}
