using System.Text.RegularExpressions;

namespace AnyDefNet.Generation;

/// <summary>Takes the code out of a model's reply: the fenced block that defines the function, else the whole reply.</summary>
internal static partial class CodeExtractor
{
    [GeneratedRegex(@"```[ \t]*(?:python|py|python3)?[ \t]*\r?\n(.*?)```", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Fence();

    public static string? Extract(string reply, string functionName)
    {
        var definition = new Regex($@"^\s*(async\s+)?def\s+{Regex.Escape(functionName)}\s*\(", RegexOptions.Multiline);
        foreach (Match m in Fence().Matches(reply))
        {
            var block = m.Groups[1].Value;
            if (definition.IsMatch(block)) return Normalize(block);
        }

        return definition.IsMatch(reply) && !reply.Contains("```", StringComparison.Ordinal) ? Normalize(reply) : null;
    }

    private static string Normalize(string code) => code.Replace("\r\n", "\n").Trim('\n') + "\n";
}
