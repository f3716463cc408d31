using System.Text.Json;

namespace AnyDefNet.Specs;

internal static class Naming
{
    public static string Snake(string name) => JsonNamingPolicy.SnakeCaseLower.ConvertName(name);

    private static readonly HashSet<string> PythonKeywords =
    [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
        "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield",
    ];

    public static bool IsKeyword(string name) => PythonKeywords.Contains(name);

    /// <summary>A parameter name Python accepts: a keyword gets a trailing underscore (<c>from_</c>).</summary>
    public static string Parameter(string name)
    {
        var snake = Snake(name);
        return PythonKeywords.Contains(snake) ? snake + "_" : snake;
    }

    public static bool IsPythonIdentifier(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') && !PythonKeywords.Contains(name);
}
