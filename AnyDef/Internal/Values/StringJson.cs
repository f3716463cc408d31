using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// Strings carried exactly, lone surrogates included: both a C# <see cref="string"/> and a Python <c>str</c> can hold an
/// unpaired surrogate, so it travels as a <c>\uXXXX</c> escape instead of being replaced by U+FFFD.
/// </summary>
internal sealed class StringJson : JsonConverter<string>
{
    public static StringJson Instance { get; } = new();

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a String");
        return ReadText(ref reader);
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        if (LoneSurrogate(value) < 0) writer.WriteStringValue(value);
        else writer.WriteRawValue(Escaped(value), skipInputValidation: true);
    }

    public override string ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => ReadText(ref reader);

    public override void WriteAsPropertyName(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        if (LoneSurrogate(value) is var at and >= 0) throw new JsonException($"the dictionary key has a lone surrogate (U+{(int)value[at]:X4}); keys must be valid Unicode");
        writer.WritePropertyName(value);
    }

    internal static string ReadText(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException) when (reader.ValueIsEscaped && !reader.HasValueSequence)
        {
            // System.Text.Json refuses an escaped lone surrogate; Python sends one only for a str that holds it.
            return Unescape(reader.ValueSpan);
        }
    }

    /// <summary>The index of the first unpaired surrogate, or -1.</summary>
    internal static int LoneSurrogate(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (!char.IsSurrogate(c)) continue;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else return i;
        }

        return -1;
    }

    private static string Escaped(string value)
    {
        var text = new StringBuilder("\"", value.Length + 16);
        var start = 0;
        for (var i = 0; i <= value.Length; i++)
        {
            var lone = i < value.Length && char.IsSurrogate(value[i]) &&
                       !(char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1])) &&
                       !(char.IsLowSurrogate(value[i]) && i > 0 && char.IsHighSurrogate(value[i - 1]));
            if (i < value.Length && !lone) continue;
            if (i > start) text.Append(JavaScriptEncoder.UnsafeRelaxedJsonEscaping.Encode(value[start..i]));
            if (i < value.Length) text.Append("\\u").Append(((int)value[i]).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
            start = i + 1;
        }

        return text.Append('"').ToString();
    }

    private static string Unescape(ReadOnlySpan<byte> raw)
    {
        var text = Encoding.UTF8.GetString(raw);
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c != '\\')
            {
                result.Append(c);
                continue;
            }

            var e = text[++i];
            result.Append(e switch
            {
                'b' => '\b',
                'f' => '\f',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => (char)Convert.ToInt32(text.Substring(i + 1, 4), 16),
                _ => e,
            });
            if (e == 'u') i += 4;
        }

        return result.ToString();
    }
}

/// <summary>A <see cref="char"/>: one UTF-16 unit, so a Python str of exactly one unit (a lone surrogate included).</summary>
internal sealed class CharJson : JsonConverter<char>
{
    public static CharJson Instance { get; } = new();

    public override char Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a Char");
        var s = StringJson.ReadText(ref reader);
        return s.Length == 1 ? s[0] : throw new JsonException($"a Python str of {s.Length} UTF-16 units is not a Char (one unit)");
    }

    public override void Write(Utf8JsonWriter writer, char value, JsonSerializerOptions options) =>
        StringJson.Instance.Write(writer, value.ToString(), options);
}
