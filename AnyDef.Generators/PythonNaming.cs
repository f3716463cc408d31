using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace AnyDefNet.Generators;

/// <summary>C# names as the runtime turns them into Python names (System.Text.Json's snake_case_lower rules).</summary>
internal static class PythonNaming
{
    private static readonly HashSet<string> Keywords =
    [
        "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif", "else",
        "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
        "return", "try", "while", "with", "yield",
    ];

    public static bool IsKeyword(string name) => Keywords.Contains(name);

    /// <summary>A parameter name Python accepts: a keyword gets a trailing underscore (<c>from_</c>), as the runtime names it.</summary>
    public static string Parameter(string name)
    {
        var snake = Snake(name);
        return Keywords.Contains(snake) ? snake + "_" : snake;
    }

    public static bool IsIdentifier(string name) =>
        name.Length > 0 && (IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => IsAsciiLetter(c) || (c >= '0' && c <= '9') || c == '_') &&
        !Keywords.Contains(name);

    private static bool IsAsciiLetter(char c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

    public static string Snake(string name)
    {
        var result = new StringBuilder(name.Length + 4);
        var state = State.NotStarted;
        for (var i = 0; i < name.Length; i++)
        {
            var current = name[i];
            switch (char.GetUnicodeCategory(current))
            {
                case UnicodeCategory.UppercaseLetter:
                    if (state is State.LowerOrDigit or State.Space) result.Append('_');
                    else if (state == State.Upper && i + 1 < name.Length && char.IsLower(name[i + 1])) result.Append('_');
                    result.Append(char.ToLowerInvariant(current));
                    state = State.Upper;
                    break;
                case UnicodeCategory.LowercaseLetter:
                case UnicodeCategory.DecimalDigitNumber:
                    if (state == State.Space) result.Append('_');
                    result.Append(current);
                    state = State.LowerOrDigit;
                    break;
                case UnicodeCategory.SpaceSeparator:
                    if (state != State.NotStarted) state = State.Space;
                    break;
                default:
                    result.Append(current);
                    state = State.NotStarted;
                    break;
            }
        }

        return result.ToString();
    }

    private enum State
    {
        NotStarted,
        Upper,
        LowerOrDigit,
        Space,
    }
}
