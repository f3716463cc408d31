using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// Where a parameter holds values JSON cannot type for Python (decimals, and floats that may be NaN or infinite), as a
/// small descriptor the runtime walks: <c>"d"</c> a Decimal, <c>"f"</c> a float, <c>["l", x]</c> a list, <c>["m", x]</c>
/// a dict's values, <c>{"field": x}</c> a record; null where nothing needs converting.
/// </summary>
internal static class WireTypes
{
    private static readonly ConcurrentDictionary<(JsonSerializerOptions, Type), string> s_cache = new();

    /// <summary>The descriptor of <paramref name="type"/> as JSON text (<c>null</c> when it needs none).</summary>
    public static string Describe(Type type, JsonSerializerOptions options) =>
        s_cache.GetOrAdd((options, type), static key => Node(key.Item2, key.Item1, [])?.ToJsonString() ?? "null");

    private static JsonNode? Node(Type type, JsonSerializerOptions options, HashSet<Type> visiting)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type == typeof(double) || type == typeof(float) || type == typeof(Half)) return "f";
        if (type == typeof(decimal)) return "d";
        if (type.IsPrimitive || type.IsEnum || type == typeof(string) || !visiting.Add(type)) return null;
        try
        {
            JsonTypeInfo info;
            try
            {
                info = options.GetTypeInfo(type);
            }
            catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException)
            {
                return null;
            }

            switch (info.Kind)
            {
                case JsonTypeInfoKind.Enumerable when info.ElementType is { } element:
                    return Node(element, options, visiting) is { } e ? new JsonArray("l", e) : null;
                case JsonTypeInfoKind.Dictionary when info.ElementType is { } value:
                    return Node(value, options, visiting) is { } v ? new JsonArray("m", v) : null;
                case JsonTypeInfoKind.Object:
                    var fields = new JsonObject();
                    foreach (var p in info.Properties)
                    {
                        if (Node(p.PropertyType, options, visiting) is { } f) fields[p.Name] = f;
                    }

                    return fields.Count > 0 ? fields : null;
                default:
                    return null;
            }
        }
        finally
        {
            visiting.Remove(type);
        }
    }
}

/// <summary>
/// The same descriptors read from Python hints, for functions declared by a signature (the JSON path and the CLI): a
/// <c>float</c> parameter receives a float for a whole JSON number, and a <c>decimal.Decimal</c> one the exact digits the
/// caller wrote.
/// </summary>
internal static class HintTypes
{
    public static JsonNode? Describe(string hint)
    {
        var h = hint.Replace(" | None", "", StringComparison.Ordinal).Trim();
        if (h.StartsWith("Optional[", StringComparison.Ordinal) && h.EndsWith(']')) h = h[9..^1].Trim();
        if (h == "float") return "f";
        if (h is "decimal.Decimal" or "Decimal") return "d";
        foreach (var list in new[] { "list[", "List[", "Sequence[" })
        {
            if (h.StartsWith(list, StringComparison.Ordinal) && h.EndsWith(']')) return Describe(h[list.Length..^1]) is { } e ? new JsonArray("l", e) : null;
        }

        foreach (var dict in new[] { "dict[str,", "Dict[str,", "Mapping[str," })
        {
            if (h.StartsWith(dict, StringComparison.Ordinal) && h.EndsWith(']')) return Describe(h[dict.Length..^1]) is { } v ? new JsonArray("m", v) : null;
        }

        return null;
    }

    /// <summary>A copy of <paramref name="value"/> whose JSON numbers in decimal places are their exact text.</summary>
    public static JsonNode? Exact(JsonNode? value, JsonNode? descriptor)
    {
        if (value is null || descriptor is null) return value?.DeepClone();
        if (descriptor is JsonValue d && d.GetValue<string>() == "d" && value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            return JsonValue.Create(v.ToJsonString());
        }

        if (descriptor is JsonArray { Count: 2 } pair && pair[0]!.GetValue<string>() is var kind)
        {
            if (kind == "l" && value is JsonArray items) return new JsonArray([.. items.Select(i => Exact(i, pair[1]))]);
            if (kind == "m" && value is JsonObject map) return new JsonObject(map.Select(kv => KeyValuePair.Create(kv.Key, Exact(kv.Value, pair[1]))));
        }

        return value.DeepClone();
    }
}
