using Microsoft.Extensions.Logging;

namespace AnyDefNet.Cli;

/// <summary>Shows the library's progress messages (generation, attempts, repairs) on standard error when it is a terminal.</summary>
internal sealed class TerminalProgressLogger : ILogger
{
    public static ILogger? IfTerminal() => Console.IsErrorRedirected ? null : new TerminalProgressLogger();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel)) Console.Error.WriteLine("… " + formatter(state, exception).Split('\n')[0]);
    }
}
