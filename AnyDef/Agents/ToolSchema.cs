using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Agents;

/// <summary>The JSON schema of a declared function's arguments, made from its spec: each parameter by its Python name and
/// type hint (records through their TypedDict definitions), required unless it has a default.</summary>
internal static class ToolSchema
{
    public static JsonObject For(FunctionSpec spec)
    {
        var records = Records(spec.TypeDefinitions);
        var properties = new JsonObject();
        var required = new JsonArray();
        foreach (var p in spec.Parameters)
        {
            properties[p.PythonName] = FromHint(p.Hint, records, 0);
            if (p.Default is null) required.Add((JsonNode)p.PythonName);
        }

        return new JsonObject { ["type"] = "object", ["properties"] = properties, ["required"] = required, ["additionalProperties"] = false };
    }

    /// <summary>The schema of one Python type hint; a hint it cannot read allows any value and names the hint.</summary>
    public static JsonObject FromHint(string hint, IReadOnlyDictionary<string, IReadOnlyList<(string Name, string Hint)>> records, int depth)
    {
        try
        {
            var parser = new HintParser(hint);
            var node = parser.Union();
            if (!parser.AtEnd) throw new FormatException("trailing text");
            return ToSchema(node, records, depth);
        }
        catch (FormatException)
        {
            return new JsonObject { ["description"] = "Python type: " + hint };
        }
    }

    private static JsonObject ToSchema(Hint node, IReadOnlyDictionary<string, IReadOnlyList<(string Name, string Hint)>> records, int depth)
    {
        if (depth > 32) return [];
        var args = node.Args;
        JsonObject Arg(int i) => i < args.Count ? ToSchema(args[i], records, depth + 1) : [];
        switch (node.Name)
        {
            case "|":
                var alternatives = args.Select(a => ToSchema(a, records, depth + 1)).ToList();
                if (alternatives.All(a => a.Count == 1 && a["type"] is JsonValue))
                {
                    return new JsonObject { ["type"] = new JsonArray([.. alternatives.Select(a => (JsonNode)a["type"]!.GetValue<string>()).Distinct()]) };
                }

                return new JsonObject { ["anyOf"] = new JsonArray([.. alternatives]) };
            case "Optional":
                return ToSchema(new Hint("|", [.. args, new Hint("None", [])]), records, depth);
            case "int":
                return new JsonObject { ["type"] = "integer" };
            case "float" or "Decimal" or "decimal.Decimal":
                return new JsonObject { ["type"] = "number" };
            case "str":
                return new JsonObject { ["type"] = "string" };
            case "bool":
                return new JsonObject { ["type"] = "boolean" };
            case "None":
                return new JsonObject { ["type"] = "null" };
            case "Any" or "object":
                return [];
            case "list" or "List" or "Sequence" or "Iterable" or "set" or "Set" or "frozenset":
                var array = new JsonObject { ["type"] = "array", ["items"] = Arg(0) };
                if (node.Name is "set" or "Set" or "frozenset") array["uniqueItems"] = true;
                return array;
            case "tuple" or "Tuple":
                if (args.Count == 2 && args[1].Name == "...") return new JsonObject { ["type"] = "array", ["items"] = Arg(0) };
                return new JsonObject
                {
                    ["type"] = "array",
                    ["prefixItems"] = new JsonArray([.. args.Select(a => (JsonNode)ToSchema(a, records, depth + 1))]),
                    ["minItems"] = args.Count,
                    ["maxItems"] = args.Count,
                };
            case "dict" or "Dict" or "Mapping":
                return new JsonObject { ["type"] = "object", ["additionalProperties"] = Arg(1) };
            case "Literal":
                return new JsonObject { ["enum"] = new JsonArray([.. args.Select(a => JsonNode.Parse(a.Literal!))]) };
            default:
                if (records.TryGetValue(node.Name, out var fields))
                {
                    var properties = new JsonObject();
                    foreach (var (name, hint) in fields) properties[name] = FromHint(hint, records, depth + 1);
                    return new JsonObject
                    {
                        ["type"] = "object",
                        ["properties"] = properties,
                        ["required"] = new JsonArray([.. fields.Select(f => (JsonNode)f.Name)]),
                        ["additionalProperties"] = false,
                    };
                }

                return new JsonObject { ["description"] = "Python type: " + node.Name };
        }
    }

    /// <summary>The fields of every <c>class Name(TypedDict):</c> definition.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<(string Name, string Hint)>> Records(IEnumerable<string> definitions)
    {
        var records = new Dictionary<string, IReadOnlyList<(string, string)>>(StringComparer.Ordinal);
        foreach (var definition in definitions)
        {
            var lines = definition.Split('\n');
            var head = lines[0].Trim();
            var open = head.IndexOf('(', StringComparison.Ordinal);
            if (!head.StartsWith("class ", StringComparison.Ordinal) || open < 6) continue;
            var name = head[6..open].Trim();
            var fields = new List<(string, string)>();
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || line.Trim() == "pass") continue;
                fields.Add((line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            records[name] = fields;
        }

        return records;
    }

    private sealed record Hint(string Name, IReadOnlyList<Hint> Args, string? Literal = null);

    private sealed class HintParser(string text)
    {
        private int _at;

        public bool AtEnd
        {
            get
            {
                Skip();
                return _at >= text.Length;
            }
        }

        public Hint Union()
        {
            var first = Term();
            var all = new List<Hint> { first };
            while (Peek('|'))
            {
                _at++;
                all.Add(Term());
            }

            return all.Count == 1 ? first : new Hint("|", all);
        }

        private Hint Term()
        {
            Skip();
            if (_at < text.Length && text[_at] is '\'' or '"')
            {
                var quote = text[_at];
                var end = text.IndexOf(quote, _at + 1);
                if (end < 0) throw new FormatException("open quote");
                var value = text[(_at + 1)..end];
                _at = end + 1;
                return new Hint("literal", [], JsonSerializer.Serialize(value, Internal.LibraryJson.Default.String));
            }

            var start = _at;
            while (_at < text.Length && (char.IsLetterOrDigit(text[_at]) || text[_at] is '_' or '.' or '-')) _at++;
            if (_at == start) throw new FormatException("expected a name");
            var name = text[start.._at];
            if (name is "True" or "False") return new Hint("literal", [], name == "True" ? "true" : "false");
            if (char.IsDigit(name[0]) || name[0] == '-') return new Hint("literal", [], name);
            if (name.StartsWith("typing.", StringComparison.Ordinal)) name = name[7..];
            var args = new List<Hint>();
            if (Peek('['))
            {
                _at++;
                if (!Peek(']'))
                {
                    args.Add(Union());
                    while (Peek(','))
                    {
                        _at++;
                        args.Add(Union());
                    }
                }

                if (!Peek(']')) throw new FormatException("expected ]");
                _at++;
            }

            return new Hint(name, args);
        }

        private bool Peek(char c)
        {
            Skip();
            return _at < text.Length && text[_at] == c;
        }

        private void Skip()
        {
            while (_at < text.Length && text[_at] == ' ') _at++;
        }
    }
}
