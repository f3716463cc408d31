using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace AnyDefNet.Generators;

/// <summary>
/// Lists the JSON metadata an [AnyDef] method needs beyond scalars: one <c>DeclaredJson</c> call for each nullable value,
/// enum, array, list and string-keyed dictionary its parameters and result use (inside records too), so the runtime
/// serializes them without reflection. Records themselves come from the application's JsonSerializerContext.
/// </summary>
internal sealed class JsonMetadata
{
    private const string Json = "global::AnyDefNet.Generated.DeclaredJson";
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat;

    private readonly List<JsonTypeModel> _types = [];
    private readonly HashSet<string> _seen = [];
    private readonly List<string> _records = [];

    /// <summary>The metadata to write, each type once, elements before the collections that hold them.</summary>
    public IReadOnlyList<JsonTypeModel> Types => _types;

    /// <summary>The records met (their metadata must come from a JsonSerializerContext in a trimmed app).</summary>
    public IReadOnlyList<string> Records => _records;

    public void Add(ITypeSymbol type)
    {
        var name = type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat);
        if (!_seen.Add(name)) return;
        switch (type)
        {
            case INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable:
                Add(nullable.TypeArguments[0]);
                Emit(name, $"Nullable<{Name(nullable.TypeArguments[0])}>");
                return;
            case INamedTypeSymbol { TypeKind: TypeKind.Enum }:
                Emit(name, $"Enum<{name}>");
                return;
            case IArrayTypeSymbol { Rank: 1 } array:
                Add(array.ElementType);
                Emit(name, $"Array<{Name(array.ElementType)}>");
                return;
            case INamedTypeSymbol { IsGenericType: true } generic when Collection(generic, name) is { } factory:
                foreach (var argument in generic.TypeArguments) Add(argument);
                Emit(name, factory);
                return;
            case INamedTypeSymbol { TypeKind: TypeKind.Class or TypeKind.Struct } record when IsRecordLike(record):
                _records.Add(name);
                foreach (var property in PythonTypeMapper.Properties(record)) Add(property.Type);
                return;
            case INamedTypeSymbol { IsGenericType: true } other:
                // Another collection (a HashSet, an immutable list): the app's context or reflection reads it, but the
                // enums and nullable values inside it still get their metadata here.
                foreach (var argument in other.TypeArguments) Add(argument);
                return;
        }
    }

    private static string Name(ITypeSymbol type) => type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat);

    private void Emit(string type, string factory) => _types.Add(new JsonTypeModel(type, $"{Json}.{factory}(options)"));

    private static string? Collection(INamedTypeSymbol type, string name)
    {
        var args = type.TypeArguments;
        var definition = type.OriginalDefinition.ToDisplayString();
        return definition switch
        {
            "System.Collections.Generic.List<T>" => $"List<{Name(args[0])}>",
            "System.Collections.Generic.IEnumerable<T>" or "System.Collections.Generic.IReadOnlyList<T>" or "System.Collections.Generic.IReadOnlyCollection<T>"
                => $"Sequence<{name}, {Name(args[0])}>",
            "System.Collections.Generic.IList<T>" or "System.Collections.Generic.ICollection<T>" => $"MutableList<{name}, {Name(args[0])}>",
            "System.Collections.Generic.Dictionary<TKey, TValue>" when args[0].SpecialType == SpecialType.System_String => $"Dictionary<{Name(args[1])}>",
            "System.Collections.Generic.IDictionary<TKey, TValue>" when args[0].SpecialType == SpecialType.System_String => $"MutableDictionary<{name}, {Name(args[1])}>",
            "System.Collections.Generic.IReadOnlyDictionary<TKey, TValue>" when args[0].SpecialType == SpecialType.System_String
                => $"ReadOnlyDictionary<{name}, {Name(args[1])}>",
            _ => null,
        };
    }

    // A type the Python mapping turns into a TypedDict: not a scalar, not a JSON type, not a collection.
    private static bool IsRecordLike(INamedTypeSymbol type) =>
        type.SpecialType == SpecialType.None &&
        type.ContainingNamespace?.ToDisplayString() is not ("System" or "System.Numerics" or "System.Text.Json" or "System.Text.Json.Nodes") &&
        !type.AllInterfaces.Any(i => i.SpecialType == SpecialType.System_Collections_IEnumerable);
}
