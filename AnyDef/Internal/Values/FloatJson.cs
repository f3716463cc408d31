using System.Globalization;
using System.Numerics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// Binary floats on the wire: always written with a fraction or an exponent (so Python reads a <c>float</c>, sign of
/// zero included), NaN and the infinities as the strings <c>"NaN"</c>, <c>"Infinity"</c>, <c>"-Infinity"</c> (which the
/// runtime turns into floats), and read back exactly: a number too large for the type is refused, never made infinite.
/// </summary>
internal static class FloatJson
{
    public static JsonConverter<double> Double { get; } = new DoubleConverter();

    public static JsonConverter<float> Single { get; } = new SingleConverter();

    public static JsonConverter<Half> Half { get; } = new HalfConverter();

    internal static void Write(Utf8JsonWriter writer, double value)
    {
        if (!double.IsFinite(value))
        {
            WireMarks.Special = true;
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
            return;
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        if (text.AsSpan().IndexOfAny('.', 'E') < 0) text += ".0";
        writer.WriteRawValue(text, skipInputValidation: true);
    }

    internal static double Read(ref Utf8JsonReader reader, string csharpType, double max)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return reader.GetString() switch
            {
                "NaN" => double.NaN,
                "Infinity" => double.PositiveInfinity,
                "-Infinity" => double.NegativeInfinity,
                var s => throw new JsonException($"a Python str ('{Shorten(s)}') is not a {csharpType}: only NaN and the infinities travel as text"),
            };
        }

        if (reader.TokenType != JsonTokenType.Number) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a {csharpType}");
        var text = WireText.Raw(ref reader);
        var value = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value) || Math.Abs(value) > max)
        {
            throw new JsonException($"a Python {WireText.NumberType(text)} ({Shorten(text)}) is outside the range of {csharpType}");
        }

        // A Python int is taken only when the float holds it exactly.
        if (text.AsSpan().IndexOfAny('.', 'e', 'E') < 0 && BigInteger.Parse(text, CultureInfo.InvariantCulture) != new BigInteger(value))
        {
            throw new JsonException($"a Python int ({Shorten(text)}) has no exact {csharpType}");
        }

        return value;
    }

    private static string Shorten(string? s) => s is null ? "" : s.Length <= 40 ? s : s[..40] + "…";

    private sealed class DoubleConverter : JsonConverter<double>
    {
        public override bool HandleNull => false;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            FloatJson.Read(ref reader, "Double", double.MaxValue);

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options) => FloatJson.Write(writer, value);
    }

    private sealed class SingleConverter : JsonConverter<float>
    {
        public override float Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = FloatJson.Read(ref reader, "Single", double.MaxValue);
            var narrowed = (float)value;
            if (double.IsFinite(value) && float.IsInfinity(narrowed)) throw new JsonException($"a Python float ({value:R}) is outside the range of Single");
            return narrowed;
        }

        // Widened exactly: Python receives the value the float holds.
        public override void Write(Utf8JsonWriter writer, float value, JsonSerializerOptions options) => FloatJson.Write(writer, value);
    }

    private sealed class HalfConverter : JsonConverter<Half>
    {
        public override Half Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var value = FloatJson.Read(ref reader, "Half", double.MaxValue);
            var narrowed = (Half)value;
            if (double.IsFinite(value) && System.Half.IsInfinity(narrowed)) throw new JsonException($"a Python float ({value:R}) is outside the range of Half");
            return narrowed;
        }

        public override void Write(Utf8JsonWriter writer, Half value, JsonSerializerOptions options) => FloatJson.Write(writer, (double)value);
    }
}

/// <summary>What a call's arguments needed beyond plain JSON, noted while they are written (per thread, per call).</summary>
internal static class WireMarks
{
    [ThreadStatic]
    private static bool t_special;

    /// <summary>A decimal or a non-finite float was written: the call carries its type descriptor.</summary>
    public static bool Special
    {
        get => t_special;
        set => t_special = value;
    }
}

/// <summary>Helpers that read a number's text and name the Python type of a token.</summary>
internal static class WireText
{
    public static string Raw(ref Utf8JsonReader reader) =>
        reader.HasValueSequence ? Encoding.UTF8.GetString(reader.ValueSequence) : Encoding.UTF8.GetString(reader.ValueSpan);

    public static string NumberType(string text) => text.AsSpan().IndexOfAny('.', 'e', 'E') < 0 ? "int" : "float";

    public static string PythonType(JsonTokenType token) => token switch
    {
        JsonTokenType.String => "str",
        JsonTokenType.Number => "int or float",
        JsonTokenType.True or JsonTokenType.False => "bool",
        JsonTokenType.Null => "None",
        JsonTokenType.StartArray => "list",
        JsonTokenType.StartObject => "dict",
        _ => token.ToString(),
    };

    public static string PythonType(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "str",
        JsonValueKind.Number => NumberType(element.GetRawText()),
        JsonValueKind.True or JsonValueKind.False => "bool",
        JsonValueKind.Null => "None",
        JsonValueKind.Array => "list",
        JsonValueKind.Object => "dict",
        _ => "value",
    };
}
