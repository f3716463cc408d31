using System.Globalization;
using System.Text.Json;

namespace AnyDefNet.Internal;

/// <summary>Compares two JSON texts as data: key order ignored, numbers by value (floats within a relative 1e-9).</summary>
internal static class JsonEquivalence
{
    public static bool Equal(string a, string b)
    {
        using var x = JsonDocument.Parse(a);
        using var y = JsonDocument.Parse(b);
        return Equal(x.RootElement, y.RootElement);
    }

    private static bool Equal(JsonElement a, JsonElement b)
    {
        if (a.ValueKind is JsonValueKind.True or JsonValueKind.False) return a.ValueKind == b.ValueKind;
        if (a.ValueKind != b.ValueKind) return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Number:
                if (a.GetRawText() == b.GetRawText()) return true;
                if (a.TryGetDecimal(out var da) && b.TryGetDecimal(out var db) && da == db) return true;
                var fa = double.Parse(a.GetRawText(), CultureInfo.InvariantCulture);
                var fb = double.Parse(b.GetRawText(), CultureInfo.InvariantCulture);
                return Math.Abs(fa - fb) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(fa), Math.Abs(fb)));
            case JsonValueKind.String:
                return a.GetString() == b.GetString();
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(p => Equal(p.First, p.Second));
            case JsonValueKind.Object:
                var pa = a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                var pb = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                return pa.Count == pb.Count && pa.All(kv => pb.TryGetValue(kv.Key, out var v) && Equal(kv.Value, v));
            default:
                return true;
        }
    }

    /// <summary>Shows JSON as a Python literal, for prompts and messages.</summary>
    public static string AsPython(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return AsPython(doc.RootElement);
    }

    public static string AsPython(JsonElement e) => AsPython(e, null);

    /// <summary>Shows JSON written for <paramref name="descriptor"/> (see <c>WireTypes</c>): decimals as <c>decimal.Decimal</c>,
    /// NaN and the infinities as floats.</summary>
    public static string AsPython(string json, string? descriptor)
    {
        using var doc = JsonDocument.Parse(json);
        return AsPython(doc.RootElement, descriptor is null ? null : System.Text.Json.Nodes.JsonNode.Parse(descriptor));
    }

    public static string AsPython(JsonElement e, System.Text.Json.Nodes.JsonNode? d)
    {
        if (d is System.Text.Json.Nodes.JsonValue kind && e.ValueKind == JsonValueKind.String)
        {
            var text = e.GetString();
            if (kind.GetValue<string>() == "d") return $"decimal.Decimal('{text}')";
            if (kind.GetValue<string>() == "f") return text switch { "NaN" => "float('nan')", "Infinity" => "float('inf')", _ => "float('-inf')" };
        }

        if (d is System.Text.Json.Nodes.JsonArray { Count: 2 } pair && pair[0]!.GetValue<string>() is var tag)
        {
            if (tag == "l" && e.ValueKind == JsonValueKind.Array) return "[" + string.Join(", ", e.EnumerateArray().Select(x => AsPython(x, pair[1]))) + "]";
            if (tag == "m" && e.ValueKind == JsonValueKind.Object) return Dict(e, _ => pair[1]);
        }

        if (d is System.Text.Json.Nodes.JsonObject fields && e.ValueKind == JsonValueKind.Object) return Dict(e, name => fields[name]);
        return Plain(e);
    }

    private static string Dict(JsonElement e, Func<string, System.Text.Json.Nodes.JsonNode?> descriptor) =>
        "{" + string.Join(", ", e.EnumerateObject().Select(p => JsonSerializer.Serialize(p.Name, LibraryJson.Default.String) + ": " + AsPython(p.Value, descriptor(p.Name)))) + "}";

    private static string Plain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => "None",
        JsonValueKind.True => "True",
        JsonValueKind.False => "False",
        JsonValueKind.Number => e.GetRawText(),
        // A JSON string literal is also a valid Python string literal.
        JsonValueKind.String => JsonSerializer.Serialize(e.GetString(), LibraryJson.Default.String),
        JsonValueKind.Array => "[" + string.Join(", ", e.EnumerateArray().Select(x => AsPython(x))) + "]",
        _ => "{" + string.Join(", ", e.EnumerateObject().Select(p => JsonSerializer.Serialize(p.Name, LibraryJson.Default.String) + ": " + AsPython(p.Value))) + "}",
    };
}
