using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Agents;

/// <summary>Checks a model's arguments against the schema the tool declared (the part of JSON schema <see cref="ToolSchema"/>
/// writes), so that a wrong argument is an error the model can read and fix, not a value the code misreads.</summary>
internal static class SchemaCheck
{
    public static void Check(JsonObject schema, JsonElement value, string path, List<string> errors)
    {
        if (errors.Count >= 10) return;
        if (schema["anyOf"] is JsonArray anyOf)
        {
            foreach (var alternative in anyOf)
            {
                var trial = new List<string>();
                Check(alternative!.AsObject(), value, path, trial);
                if (trial.Count == 0) return;
            }

            errors.Add($"{path} does not match any of the allowed types");
            return;
        }

        if (schema["enum"] is JsonArray allowed)
        {
            var text = value.GetRawText();
            if (!allowed.Any(a => JsonNode.DeepEquals(a, JsonNode.Parse(text)))) errors.Add($"{path} must be one of {allowed.ToJsonString()}");
            return;
        }

        if (schema["type"] is { } type)
        {
            var types = type is JsonArray many ? many.Select(t => t!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            if (!types.Any(t => Is(t, value)))
            {
                errors.Add($"{path} must be {string.Join(" or ", types)} (was {Kind(value)})");
                return;
            }
        }

        if (value.ValueKind == JsonValueKind.Array && schema["items"] is JsonObject items)
        {
            var i = 0;
            foreach (var item in value.EnumerateArray()) Check(items, item, $"{path}[{i++}]", errors);
        }
        else if (value.ValueKind == JsonValueKind.Array && schema["prefixItems"] is JsonArray prefix)
        {
            if (value.GetArrayLength() != prefix.Count) errors.Add($"{path} must have {prefix.Count} items");
            else for (var i = 0; i < prefix.Count; i++) Check(prefix[i]!.AsObject(), value[i], $"{path}[{i}]", errors);
        }
        else if (value.ValueKind == JsonValueKind.Object)
        {
            var properties = schema["properties"] as JsonObject;
            foreach (var property in value.EnumerateObject())
            {
                if (properties?[property.Name] is JsonObject known) Check(known, property.Value, $"{path}.{property.Name}", errors);
                else if (schema["additionalProperties"] is JsonObject extra) Check(extra, property.Value, $"{path}.{property.Name}", errors);
                else if (schema["additionalProperties"] is JsonValue v && v.GetValue<bool>() == false) errors.Add($"{path} has no field '{property.Name}'");
            }

            if (schema["required"] is JsonArray required)
            {
                foreach (var name in required.Select(r => r!.GetValue<string>()))
                {
                    if (!value.TryGetProperty(name, out _)) errors.Add($"{path}.{name} is required");
                }
            }
        }
    }

    private static bool Is(string type, JsonElement value) => type switch
    {
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && IsInteger(value.GetRawText()),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        "array" => value.ValueKind == JsonValueKind.Array,
        "object" => value.ValueKind == JsonValueKind.Object,
        _ => true,
    };

    // Exact for any size: 1e3 and 2.0 are integers in JSON schema; 2.5 is not.
    private static bool IsInteger(string raw) =>
        !raw.Contains('.', StringComparison.Ordinal) && !raw.Contains('e', StringComparison.OrdinalIgnoreCase)
        || (decimal.TryParse(raw, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var d) && d == decimal.Truncate(d));

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Number => "the number " + value.GetRawText(),
        JsonValueKind.String => "a string",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };
}
