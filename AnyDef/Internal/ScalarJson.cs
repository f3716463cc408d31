using System.Numerics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using M = System.Text.Json.Serialization.Metadata.JsonMetadataServices;

namespace AnyDefNet.Internal;

/// <summary>JSON metadata, built without reflection, for every scalar an <see cref="AnyDefAttribute"/> method may take or return.</summary>
internal sealed class ScalarJson : IJsonTypeInfoResolver
{
    public static ScalarJson Resolver { get; } = new();

    public JsonTypeInfo? GetTypeInfo(Type type, JsonSerializerOptions options) => type.IsEnum ? null : Type.GetTypeCode(type) switch
    {
        TypeCode.Boolean => Value(options, M.BooleanConverter),
        TypeCode.Byte => Value(options, M.ByteConverter),
        TypeCode.SByte => Value(options, M.SByteConverter),
        TypeCode.Int16 => Value(options, M.Int16Converter),
        TypeCode.UInt16 => Value(options, M.UInt16Converter),
        TypeCode.Int32 => Value(options, M.Int32Converter),
        TypeCode.UInt32 => Value(options, M.UInt32Converter),
        TypeCode.Int64 => Value(options, M.Int64Converter),
        TypeCode.UInt64 => Value(options, M.UInt64Converter),
        TypeCode.Single => Value(options, Values.FloatJson.Single),
        TypeCode.Double => Value(options, Values.FloatJson.Double),
        TypeCode.Decimal => Value(options, Values.DecimalJson.Instance),
        TypeCode.Char => Value(options, Values.CharJson.Instance),
        TypeCode.String => Value(options, Values.StringJson.Instance),
        TypeCode.DateTime => Value(options, M.DateTimeConverter),
        _ when type == typeof(DateTimeOffset) => Value(options, M.DateTimeOffsetConverter),
        _ when type == typeof(DateOnly) => Value(options, M.DateOnlyConverter),
        _ when type == typeof(TimeOnly) => Value(options, M.TimeOnlyConverter),
        _ when type == typeof(TimeSpan) => Value(options, M.TimeSpanConverter),
        _ when type == typeof(Guid) => Value(options, M.GuidConverter),
        _ when type == typeof(Half) => Value(options, Values.FloatJson.Half),
        _ when type == typeof(Int128) => Value(options, M.Int128Converter),
        _ when type == typeof(UInt128) => Value(options, M.UInt128Converter),
        _ when type == typeof(BigInteger) => Value(options, Json.BigInteger),
        _ when type == typeof(JsonElement) => Value(options, M.JsonElementConverter),
        _ when type == typeof(JsonDocument) => Value(options, M.JsonDocumentConverter),
        _ when type == typeof(JsonNode) => Value(options, M.JsonNodeConverter),
        _ when type == typeof(JsonObject) => Value(options, M.JsonObjectConverter),
        _ when type == typeof(JsonArray) => Value(options, M.JsonArrayConverter),
        _ when type == typeof(JsonValue) => Value(options, M.JsonValueConverter),
        _ when type == typeof(object) => Value(options, M.ObjectConverter),
        _ => null,
    };

    private static JsonTypeInfo<T> Value<T>(JsonSerializerOptions options, JsonConverter<T> converter) => M.CreateValueInfo<T>(options, converter);
}
