using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// An enum by name: a plain enum is one member name (the hint's <c>Literal[...]</c>), a <see cref="FlagsAttribute"/> enum a
/// list of member names. A value no name covers is refused both ways, and names are matched exactly.
/// </summary>
internal sealed class EnumJson<T> : JsonConverter<T>
    where T : struct, Enum
{
    private static readonly string[] s_names = Enum.GetNames<T>();
    private static readonly T[] s_values = Enum.GetValues<T>();
    private static readonly bool s_flags = typeof(T).IsDefined(typeof(FlagsAttribute), inherit: false);

    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (!s_flags) return ReadName(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a {typeof(T).Name} (a list of its names)");
        ulong bits = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) bits |= Bits(ReadName(ref reader));
        return FromBits(bits);
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        if (!s_flags)
        {
            writer.WriteStringValue(Enum.GetName(value) ?? throw new JsonException($"({typeof(T).Name}){value:D} is not a defined {typeof(T).Name}"));
            return;
        }

        var bits = Bits(value);
        var left = bits;
        writer.WriteStartArray();
        for (var i = 0; i < s_values.Length; i++)
        {
            var b = Bits(s_values[i]);
            if (b != 0 && (b & (b - 1)) == 0 && (bits & b) == b)
            {
                writer.WriteStringValue(s_names[i]);
                left &= ~b;
            }
        }

        if (left != 0) throw new JsonException($"({typeof(T).Name}){value:D} has bits no single {typeof(T).Name} member names");
        writer.WriteEndArray();
    }

    private static T ReadName(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a {typeof(T).Name} name");
        var name = reader.GetString();
        var at = Array.IndexOf(s_names, name);
        return at >= 0 ? s_values[at]
            : throw new JsonException($"a Python str ('{name}') is not a name of {typeof(T).Name} ({string.Join(", ", s_names)})");
    }

    private static ulong Bits(T value) => Unsafe.SizeOf<T>() switch
    {
        1 => Unsafe.As<T, byte>(ref value),
        2 => Unsafe.As<T, ushort>(ref value),
        4 => Unsafe.As<T, uint>(ref value),
        _ => Unsafe.As<T, ulong>(ref value),
    };

    private static T FromBits(ulong bits)
    {
        var value = default(T);
        switch (Unsafe.SizeOf<T>())
        {
            case 1: Unsafe.As<T, byte>(ref value) = (byte)bits; break;
            case 2: Unsafe.As<T, ushort>(ref value) = (ushort)bits; break;
            case 4: Unsafe.As<T, uint>(ref value) = (uint)bits; break;
            default: Unsafe.As<T, ulong>(ref value) = bits; break;
        }

        return value;
    }
}

/// <summary>Makes an <see cref="EnumJson{T}"/> for any enum (functions read through reflection).</summary>
[RequiresDynamicCode(Json.ReflectionMessage)]
internal sealed class EnumJsonFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    [UnconditionalSuppressMessage("Trimming", "IL2071", Justification = "EnumJson<T> only needs T's enum metadata, which enums always keep.")]
    public override JsonConverter? CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter?)Activator.CreateInstance(typeof(EnumJson<>).MakeGenericType(typeToConvert));
}
