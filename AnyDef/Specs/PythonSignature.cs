using System.Text.RegularExpressions;

namespace AnyDefNet.Specs;

/// <summary>Reads a Python signature line such as <c>def slugify(text: str, max_len: int = 40) -> str</c>.</summary>
internal static partial class PythonSignature
{
    [GeneratedRegex(@"^\s*def\s+(?<name>[A-Za-z_]\w*)\s*\((?<params>.*)\)\s*(?:->\s*(?<ret>.+?))?\s*:?\s*$", RegexOptions.Singleline)]
    private static partial Regex Line();

    public static (string Name, IReadOnlyList<ParameterSpec> Parameters, string ReturnHint, string Signature) Parse(string signature)
    {
        var m = Line().Match(signature ?? "");
        if (!m.Success)
        {
            throw new ArgumentException($"'{signature}' is not a Python signature. Write it as: def name(param: type, other: type = default) -> type", nameof(signature));
        }

        var parameters = new List<ParameterSpec>();
        foreach (var part in SplitTopLevel(m.Groups["params"].Value).Where(p => p.Length > 0))
        {
            if (part is "/" or "*" || part.StartsWith('*'))
            {
                throw new ArgumentException($"The signature '{signature}' uses '{part}'; declare plain named parameters (defaults are fine).", nameof(signature));
            }

            var colon = part.IndexOf(':', StringComparison.Ordinal);
            var equals = IndexOfTopLevel(part, '=');
            var name = part[..(colon >= 0 ? colon : equals >= 0 ? equals : part.Length)].Trim();
            if (!Naming.IsPythonIdentifier(name)) throw new ArgumentException($"'{name}' is not a valid Python parameter name in '{signature}'.", nameof(signature));
            var hint = colon >= 0 ? part[(colon + 1)..(equals > colon ? equals : part.Length)].Trim() : "Any";
            parameters.Add(new ParameterSpec(name, name, hint, "JSON") { Default = equals >= 0 ? part[(equals + 1)..].Trim() : null });
        }

        var ret = m.Groups["ret"].Success ? m.Groups["ret"].Value.Trim() : "Any";
        var normalized = Regex.Replace(signature!.Trim().TrimEnd(':').Trim(), @"\s+", " ");
        return (m.Groups["name"].Value, parameters, ret, normalized);
    }

    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        char? quote = null;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is not null) { if (c == quote) quote = null; continue; }
            if (c is '\'' or '"') quote = c;
            else if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (c == ',' && depth == 0) { parts.Add(text[start..i].Trim()); start = i + 1; }
        }

        parts.Add(text[start..].Trim());
        return parts;
    }

    private static int IndexOfTopLevel(string text, char target)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (c == target && depth == 0) return i;
        }

        return -1;
    }
}
