using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace AnyDefNet.Generators;

/// <summary>
/// Maps C# types to Python type hints exactly as the runtime maps reflected types (so a method and a record-based
/// declaration of the same function get the same spec hash), collecting a TypedDict for every record it meets.
/// </summary>
internal sealed class PythonTypeMapper
{
    private readonly Dictionary<ITypeSymbol, string> _typedDicts = new(SymbolEqualityComparer.Default);
    private readonly List<string> _definitions = [];

    /// <summary>TypedDict definitions for the records met so far, in dependency order.</summary>
    public IReadOnlyList<string> Definitions => _definitions;

    /// <summary>Why the last types could not be mapped (empty when all could).</summary>
    public List<string> Problems { get; } = [];

    public string Hint(ITypeSymbol type, bool withNullability)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            return Hint(nullable.TypeArguments[0], false) + " | None";
        }

        var hint = NonNullHint(type, withNullability);
        return withNullability && type.NullableAnnotation == NullableAnnotation.Annotated && !type.IsValueType ? hint + " | None" : hint;
    }

    private string NonNullHint(ITypeSymbol type, bool withNullability)
    {
        switch (type.SpecialType)
        {
            case SpecialType.System_String or SpecialType.System_Char: return "str";
            case SpecialType.System_Boolean: return "bool";
            case SpecialType.System_SByte or SpecialType.System_Byte or SpecialType.System_Int16 or SpecialType.System_UInt16 or
                SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64:
                return "int";
            case SpecialType.System_Double or SpecialType.System_Single: return "float";
            case SpecialType.System_Decimal: return "decimal.Decimal";
            case SpecialType.System_DateTime: return "str";
            case SpecialType.System_Object: return "Any";
            case SpecialType.System_IntPtr or SpecialType.System_UIntPtr: return Unsupported(type, "a native-sized integer has no JSON form; use long");
        }

        var name = FullName(type);
        switch (name)
        {
            case "System.Numerics.BigInteger" or "System.Int128" or "System.UInt128": return "int";
            case "System.Half": return "float";
            case "System.DateTimeOffset" or "System.DateOnly" or "System.TimeOnly" or "System.Guid" or "System.TimeSpan": return "str";
            case "System.Text.Json.JsonElement": return "Any";
        }

        if (type.TypeKind == TypeKind.Dynamic || IsJsonNode(type)) return "Any";
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Enum } e)
        {
            var names = e.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue)
                .OrderBy(f => ToUnsigned(f.ConstantValue)).Select(f => $"'{f.Name}'");
            var literal = "Literal[" + string.Join(", ", names) + "]";
            return e.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() == "System.FlagsAttribute") ? $"list[{literal}]" : literal;
        }

        if (type is IArrayTypeSymbol array)
        {
            return array.Rank == 1
                ? $"list[{Hint(array.ElementType, withNullability)}]"
                : Unsupported(type, "a multi-dimensional array has no JSON form; use an array of arrays");
        }

        if (type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter or TypeKind.Error or TypeKind.Delegate)
        {
            return Unsupported(type, type.TypeKind switch
            {
                TypeKind.TypeParameter => "a type parameter is only known at run time",
                TypeKind.Delegate => "code cannot travel to Python",
                TypeKind.Error => "the type is not known",
                _ => "a pointer has no JSON form",
            });
        }

        if (type.IsRefLikeType) return Unsupported(type, "a ref struct cannot be serialized; use an array");
        if (type.IsTupleType || (type is INamedTypeSymbol { IsGenericType: true } t && FullName(t.OriginalDefinition).StartsWith("System.Tuple<", System.StringComparison.Ordinal)))
        {
            return Unsupported(type, "a tuple has no named members to cross to Python; declare a record instead");
        }


        var own = type as INamedTypeSymbol;
        if (DictionaryOf(type) is { } dictionary)
        {
            if (dictionary.TypeArguments[0].SpecialType != SpecialType.System_String)
            {
                return Unsupported(type, $"dictionaries need string keys to travel as JSON, and this one has {dictionary.TypeArguments[0].Name} keys");
            }

            return $"dict[str, {Hint(dictionary.TypeArguments[1], withNullability && own is { TypeArguments.Length: >= 2 })}]";
        }

        if (EnumerableElement(type) is { } element) return $"list[{Hint(element, withNullability && own is { TypeArguments.Length: >= 1 })}]";
        if (type.TypeKind is TypeKind.Class or TypeKind.Struct) return TypedDict(type);
        return Unsupported(type, "an interface says nothing about the data; use a record or a collection type");
    }

    private string Unsupported(ITypeSymbol type, string why)
    {
        Problems.Add($"{type.ToDisplayString()}: {why}");
        return "Any";
    }

    private static ulong ToUnsigned(object? value) => value switch
    {
        sbyte v => unchecked((ulong)v),
        short v => unchecked((ulong)v),
        int v => unchecked((ulong)v),
        long v => unchecked((ulong)v),
        byte v => v,
        ushort v => v,
        uint v => v,
        ulong v => v,
        _ => 0,
    };

    private static bool IsJsonNode(ITypeSymbol type)
    {
        for (var t = type; t is not null; t = t.BaseType)
        {
            if (FullName(t) == "System.Text.Json.Nodes.JsonNode") return true;
        }

        return false;
    }

    private static INamedTypeSymbol? DictionaryOf(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { IsGenericType: true } named && FullName(named.OriginalDefinition) is
            "System.Collections.Generic.IDictionary<TKey, TValue>" or "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>")
        {
            return named;
        }

        return type.AllInterfaces.FirstOrDefault(i => FullName(i.OriginalDefinition) == "System.Collections.Generic.IDictionary<TKey, TValue>");
    }

    private static ITypeSymbol? EnumerableElement(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Collections_Generic_IEnumerable_T } direct) return direct.TypeArguments[0];
        if (!type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable)) return null;
        return type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)?.TypeArguments[0];
    }

    private string TypedDict(ITypeSymbol type)
    {
        if (_typedDicts.TryGetValue(type, out var existing)) return existing;
        var name = type.Name;
        _typedDicts[type] = name;
        var fields = Properties(type).Select(p => (Name: PythonNaming.Snake(p.Name), Hint: Hint(p.Type, true))).ToList();
        // A member named like a Python keyword (from, class) needs the functional form, which takes any key.
        _definitions.Add(fields.Any(f => PythonNaming.IsKeyword(f.Name))
            ? $"{name} = TypedDict('{name}', {{{string.Join(", ", fields.Select(f => $"'{f.Name}': {f.Hint}"))}}})"
            : $"class {name}(TypedDict):\n" + (fields.Count == 0 ? "    pass" : string.Join("\n", fields.Select(f => $"    {f.Name}: {f.Hint}"))));
        return name;
    }

    /// <summary>The public readable instance properties, base types' first, each in declaration order (as reflection lists them).</summary>
    public static IReadOnlyList<IPropertySymbol> Properties(ITypeSymbol type)
    {
        var chain = new List<ITypeSymbol>();
        for (var t = type; t is not null && t.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); t = t.BaseType) chain.Insert(0, t);
        var result = new List<IPropertySymbol>();
        foreach (var t in chain)
        {
            foreach (var p in t.GetMembers().OfType<IPropertySymbol>())
            {
                if (p.IsStatic || p.IsIndexer || p.DeclaredAccessibility != Accessibility.Public || p.GetMethod is null || p.Name == "EqualityContract") continue;
                result.RemoveAll(r => r.Name == p.Name);
                result.Add(p);
            }
        }

        return result;
    }

    /// <summary>The C# type as the runtime names it in the prompt: <c>Int32</c>, <c>List&lt;String&gt;</c>, <c>Int32?</c>.</summary>
    public static string FriendlyName(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable) return FriendlyName(nullable.TypeArguments[0]) + "?";
        if (type is IArrayTypeSymbol array) return FriendlyName(array.ElementType) + "[]";
        if (type is INamedTypeSymbol { IsGenericType: true } generic) return generic.Name + "<" + string.Join(", ", generic.TypeArguments.Select(FriendlyName)) + ">";
        return type.MetadataName;
    }

    private static string FullName(ITypeSymbol type) => type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.None)
        .WithGenericsOptions(SymbolDisplayGenericsOptions.IncludeTypeParameters));
}
