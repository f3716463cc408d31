using System.Collections;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// Finds a <c>None</c> where the C# type forbids null: inside lists, arrays and dictionary values (which System.Text.Json
/// fills with null whatever the element's annotation), honouring nullable annotations read at run time. Where the
/// annotation is unknown (the generic arguments of the result type itself) a reference element is not nullable, as the
/// prompt's hint says.
/// </summary>
internal static class NullCheck
{
    private static readonly ConcurrentDictionary<Type, bool> s_plain = new();

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Runs only where reflection-based serialization is enabled; " +
        "trimmed and Native AOT apps skip it (their records' members are still checked by the serializer's nullable annotations).")]
    [UnconditionalSuppressMessage("Trimming", "IL2072", Justification = "As above.")]
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = "As above.")]
    public static void Validate(object? value, Type type, bool allowsNull)
    {
        if (!JsonSerializer.IsReflectionEnabledByDefault) return;
        Walk(value, type, null, allowsNull, "$", new NullabilityInfoContext(), 0);
    }

    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    private static void Walk(object? value, Type type, NullabilityInfo? info, bool nullable, string path, NullabilityInfoContext context, int depth)
    {
        if (value is null)
        {
            if (nullable || Nullable.GetUnderlyingType(type) is not null || type == typeof(object) || typeof(JsonNode).IsAssignableFrom(type)) return;
            throw new JsonException($"a Python None is not a {FunctionSpec.FriendlyName(type)}, which does not allow null", path, null, null);
        }

        if (depth > Json.MaxDepth || Plain(type)) return;
        if (type.IsArray)
        {
            var element = type.GetElementType()!;
            var i = 0;
            foreach (var e in (Array)value) Walk(e, element, info?.ElementType, IsNullable(info?.ElementType), $"{path}[{i++}]", context, depth + 1);
            return;
        }

        if (value is IDictionary dictionary && type.IsGenericType)
        {
            var valueType = dictionary.GetType().GetInterfaces().FirstOrDefault(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IDictionary<,>))?.GetGenericArguments()[1] ?? typeof(object);
            var valueInfo = info?.GenericTypeArguments.ElementAtOrDefault(1);
            foreach (DictionaryEntry entry in dictionary)
            {
                Walk(entry.Value, valueType, valueInfo, IsNullable(valueInfo), $"{path}['{entry.Key}']", context, depth + 1);
            }

            return;
        }

        if (value is IEnumerable sequence)
        {
            var element = type.IsGenericType ? type.GetGenericArguments()[0] : typeof(object);
            var elementInfo = info?.GenericTypeArguments.FirstOrDefault();
            var i = 0;
            foreach (var e in sequence) Walk(e, element, elementInfo, IsNullable(elementInfo), $"{path}[{i++}]", context, depth + 1);
            return;
        }

        foreach (var p in Specs.PythonTypes.Properties(type))
        {
            if (p.GetMethod is null) continue;
            var pi = context.Create(p);
            Walk(p.GetValue(value), p.PropertyType, pi, IsNullable(pi), $"{path}.{Specs.Naming.Snake(p.Name)}", context, depth + 1);
        }
    }

    private static bool IsNullable(NullabilityInfo? info) => info?.ReadState == NullabilityState.Nullable;

    // Types that can hold no null below them.
    private static bool Plain(Type type) => s_plain.GetOrAdd(type, static t =>
    {
        t = Nullable.GetUnderlyingType(t) ?? t;
        if (t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(BigInteger) || t == typeof(Int128) || t == typeof(UInt128) ||
            t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(DateOnly) || t == typeof(TimeOnly) || t == typeof(TimeSpan) ||
            t == typeof(Guid) || t == typeof(Half) || t == typeof(JsonElement) || t == typeof(object) || typeof(JsonNode).IsAssignableFrom(t))
        {
            return true;
        }

        if (t.IsArray) return t.GetElementType() is { } e && e.IsValueType && Plain(e);
        if (t.IsGenericType && typeof(IEnumerable).IsAssignableFrom(t))
        {
            var args = t.GetGenericArguments();
            return args.All(a => a.IsValueType && Plain(a)) || (args.Length == 2 && args[0] == typeof(string) && args[1].IsValueType && Plain(args[1]));
        }

        return false;
    });
}
