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
