using System.Collections;
using System.Numerics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace AnyDefNet.Specs;

/// <summary>Maps C# types to Python type hints, collecting a TypedDict for every record it meets.</summary>
[System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(AnyDefNet.Internal.Json.ReflectionMessage)]
internal sealed class PythonTypes
{
    private readonly NullabilityInfoContext _nullability = new();
    private readonly Dictionary<Type, string> _typedDicts = [];
    private readonly List<string> _definitions = [];

    /// <summary>TypedDict definitions for the records met so far, in dependency order.</summary>
    public IReadOnlyList<string> Definitions => _definitions;

    public string Hint(PropertyInfo property) => Hint(property.PropertyType, _nullability.Create(property));

    public string Hint(Type type, NullabilityInfo? nullability = null)
    {
        if (Nullable.GetUnderlyingType(type) is { } inner) return Hint(inner) + " | None";
        var hint = NonNullHint(type, nullability);
        return nullability is { ReadState: NullabilityState.Nullable } && !type.IsValueType ? hint + " | None" : hint;
    }

    private string NonNullHint(Type type, NullabilityInfo? nullability)
    {
        if (type == typeof(string) || type == typeof(char)) return "str";
        if (type == typeof(bool)) return "bool";
        if (IsInteger(type)) return "int";
        if (type == typeof(double) || type == typeof(float) || type == typeof(Half)) return "float";
        if (type == typeof(decimal)) return "decimal.Decimal";
        if (IsTuple(type))
        {
            throw new NotSupportedException($"The tuple type {FunctionSpec.FriendlyName(type)} has no named members to cross to Python; declare a record instead.");
        }

        if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) return "str";
        if (type == typeof(DateOnly) || type == typeof(TimeOnly) || type == typeof(Guid) || type == typeof(TimeSpan)) return "str";
        if (type == typeof(JsonElement) || type == typeof(JsonNode) || type == typeof(object) || typeof(JsonNode).IsAssignableFrom(type)) return "Any";
        if (type.IsEnum)
        {
            var literal = "Literal[" + string.Join(", ", Enum.GetNames(type).Select(n => $"'{n}'")) + "]";
            return type.IsDefined(typeof(FlagsAttribute), false) ? $"list[{literal}]" : literal;
        }

        if (type.IsArray) return $"list[{Hint(type.GetElementType()!, nullability?.ElementType)}]";
        if (DictionaryValueType(type) is { } valueType) return $"dict[str, {Hint(valueType, nullability?.GenericTypeArguments.ElementAtOrDefault(1))}]";
        if (EnumerableElementType(type) is { } element) return $"list[{Hint(element, nullability?.GenericTypeArguments.FirstOrDefault())}]";
        if (type.IsClass || type.IsValueType) return TypedDict(type);
        throw new NotSupportedException($"The type {type.Name} has no Python counterpart in AnyDef.");
    }

    /// <summary>A <see cref="ValueTuple"/> or <see cref="Tuple"/> type.</summary>
    public static bool IsTuple(Type t) => t.IsGenericType && t.FullName is { } n && (n.StartsWith("System.ValueTuple`", StringComparison.Ordinal) || n.StartsWith("System.Tuple`", StringComparison.Ordinal));

    public static bool IsInteger(Type t) =>
        t == typeof(int) || t == typeof(long) || t == typeof(short) || t == typeof(byte) || t == typeof(sbyte) ||
        t == typeof(uint) || t == typeof(ulong) || t == typeof(ushort) || t == typeof(BigInteger) || t == typeof(Int128) || t == typeof(UInt128);

    private static Type? DictionaryValueType(Type type)
    {
        var dict = type.IsGenericType && type.GetGenericTypeDefinition() is var d &&
                   (d == typeof(IDictionary<,>) || d == typeof(IReadOnlyDictionary<,>)) ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dict is null) return null;
        var args = dict.GetGenericArguments();
        if (args[0] != typeof(string)) throw new NotSupportedException($"Dictionaries need string keys to travel as JSON; {type.Name} has {args[0].Name} keys.");
        return args[1];
    }

    private static Type? EnumerableElementType(Type type)
    {
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IEnumerable<>)) return type.GetGenericArguments()[0];
        if (!typeof(IEnumerable).IsAssignableFrom(type)) return null;
        return type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private string TypedDict(Type type)
    {
        if (_typedDicts.TryGetValue(type, out var existing)) return existing;
        var name = type.Name.Split('`')[0];
        _typedDicts[type] = name;
        var fields = Properties(type).Select(p => (Name: Naming.Snake(p.Name), Hint: Hint(p))).ToList();
        // A member named like a Python keyword (from, class) needs the functional form, which takes any key.
        _definitions.Add(fields.Any(f => Naming.IsKeyword(f.Name))
            ? $"{name} = TypedDict('{name}', {{{string.Join(", ", fields.Select(f => $"'{f.Name}': {f.Hint}"))}}})"
            : $"class {name}(TypedDict):\n" + (fields.Count == 0 ? "    pass" : string.Join("\n", fields.Select(f => $"    {f.Name}: {f.Hint}"))));
        return name;
    }

    /// <summary>The public readable instance properties of a type, in declaration order.</summary>
    public static IReadOnlyList<PropertyInfo> Properties(Type type) =>
        [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .OrderBy(p => p.MetadataToken)];
}
