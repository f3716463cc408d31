using System.ComponentModel;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace AnyDefNet.Generated;

/// <summary>
/// JSON metadata built without reflection, for the collections, nullable values and enums of <see cref="AnyDefAttribute"/>
/// methods: the source generator writes one call per type a method uses, so trimmed and Native AOT apps keep them.
/// Written by the AnyDef source generator; not for direct use.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class DeclaredJson
{
    /// <summary>A nullable value type.</summary>
    /// <typeparam name="T">The underlying type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<T?> Nullable<T>(JsonSerializerOptions options)
        where T : struct
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonMetadataServices.CreateValueInfo<T?>(options, JsonMetadataServices.GetNullableConverter((JsonTypeInfo<T>)options.GetTypeInfo(typeof(T))));
    }

    /// <summary>An enum, written as its member name (as the Python hint <c>Literal['A', 'B']</c> says), or a list of names for a
    /// <see cref="FlagsAttribute"/> enum; values no name covers are refused.</summary>
    /// <typeparam name="T">The enum type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<T> Enum<T>(JsonSerializerOptions options)
        where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(options);
        return JsonMetadataServices.CreateValueInfo<T>(options, new Internal.Values.EnumJson<T>());
    }

    /// <summary>An array.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<T[]> Array<T>(JsonSerializerOptions options) =>
        JsonMetadataServices.CreateArrayInfo(options, new JsonCollectionInfoValues<T[]>());

    /// <summary>A <see cref="List{T}"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<List<T>> List<T>(JsonSerializerOptions options) =>
        JsonMetadataServices.CreateListInfo<List<T>, T>(options, new JsonCollectionInfoValues<List<T>> { ObjectCreator = static () => [] });

    /// <summary>A sequence interface such as <see cref="IEnumerable{T}"/>, <see cref="IReadOnlyList{T}"/> or
    /// <see cref="IReadOnlyCollection{T}"/>; read into a <see cref="List{T}"/>.</summary>
    /// <typeparam name="TCollection">The interface.</typeparam>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<TCollection> Sequence<TCollection, T>(JsonSerializerOptions options)
        where TCollection : IEnumerable<T> =>
        JsonMetadataServices.CreateIEnumerableInfo<TCollection, T>(options, new JsonCollectionInfoValues<TCollection>());

    /// <summary>An <see cref="IList{T}"/> or <see cref="ICollection{T}"/>; read into a <see cref="List{T}"/>.</summary>
    /// <typeparam name="TCollection">The interface.</typeparam>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<TCollection> MutableList<TCollection, T>(JsonSerializerOptions options)
        where TCollection : ICollection<T> =>
        JsonMetadataServices.CreateICollectionInfo<TCollection, T>(options, new JsonCollectionInfoValues<TCollection>());

    /// <summary>A <see cref="Dictionary{TKey, TValue}"/> with string keys.</summary>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<Dictionary<string, TValue>> Dictionary<TValue>(JsonSerializerOptions options) =>
        JsonMetadataServices.CreateDictionaryInfo<Dictionary<string, TValue>, string, TValue>(options,
            new JsonCollectionInfoValues<Dictionary<string, TValue>> { ObjectCreator = static () => [] });

    /// <summary>An <see cref="IDictionary{TKey, TValue}"/> with string keys; read into a <see cref="Dictionary{TKey, TValue}"/>.</summary>
    /// <typeparam name="TCollection">The interface.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<TCollection> MutableDictionary<TCollection, TValue>(JsonSerializerOptions options)
        where TCollection : IDictionary<string, TValue> =>
        JsonMetadataServices.CreateIDictionaryInfo<TCollection, string, TValue>(options, new JsonCollectionInfoValues<TCollection>());

    /// <summary>An <see cref="IReadOnlyDictionary{TKey, TValue}"/> with string keys; read into a <see cref="Dictionary{TKey, TValue}"/>.</summary>
    /// <typeparam name="TCollection">The interface.</typeparam>
    /// <typeparam name="TValue">The value type.</typeparam>
    /// <param name="options">The options the metadata belongs to.</param>
    public static JsonTypeInfo<TCollection> ReadOnlyDictionary<TCollection, TValue>(JsonSerializerOptions options)
        where TCollection : IReadOnlyDictionary<string, TValue> =>
        JsonMetadataServices.CreateIReadOnlyDictionaryInfo<TCollection, string, TValue>(options, new JsonCollectionInfoValues<TCollection>());
}
