using System.Globalization;
using System.Numerics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AnyDefNet.Internal.Values;

/// <summary>
/// <see cref="decimal"/> as Python's <c>decimal.Decimal</c>: written as its exact text (scale kept), which the runtime
/// turns into a <c>Decimal</c>; read from a Python <c>Decimal</c>, <c>int</c> or <c>float</c> (a JSON number with all its
/// digits) only when the decimal holds it exactly.
/// </summary>
internal sealed class DecimalJson : JsonConverter<decimal>
{
    public static DecimalJson Instance { get; } = new();

    public override decimal Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        // The runtime writes a Python Decimal as a JSON number with all its digits, as it writes an int or a float.
        if (reader.TokenType != JsonTokenType.Number) throw new JsonException($"a Python {WireText.PythonType(reader.TokenType)} is not a Decimal");
        var text = WireText.Raw(ref reader);
        return Exact(text, "number");
    }

    public override void Write(Utf8JsonWriter writer, decimal value, JsonSerializerOptions options)
    {
        WireMarks.Special = true;
        writer.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The decimal whose value is exactly <paramref name="text"/>, or an error naming why there is none.</summary>
    internal static decimal Exact(string text, string python)
    {
        var shown = text.Length <= 60 ? text : text[..60] + "…";
        if (!TryRational(text, out var mantissa, out var exponent))
        {
            throw new JsonException($"a Python {python} ('{shown}') is not a finite number, which Decimal cannot hold");
        }

        decimal value;
        try
        {
            value = decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            throw new JsonException($"a Python {python} ({shown}) is outside the range of Decimal");
        }

        Span<int> bits = stackalloc int[4];
        decimal.GetBits(value, bits);
        var m = ((BigInteger)(uint)bits[2] << 64) | ((BigInteger)(uint)bits[1] << 32) | (uint)bits[0];
        if (bits[3] < 0) m = -m;
        var scale = (bits[3] >> 16) & 0xFF;
        // mantissa * 10^exponent == m * 10^-scale ?
        var shift = exponent + scale;
        var exact = m.IsZero || mantissa.IsZero ? m.IsZero && mantissa.IsZero
            : shift >= 0 ? mantissa * BigInteger.Pow(10, shift) == m : mantissa == m * BigInteger.Pow(10, -shift);
        if (!exact) throw new JsonException($"a Python {python} ({shown}) has more digits than Decimal holds (28-29)");
        return value;
    }

    private static bool TryRational(string text, out BigInteger mantissa, out int exponent)
    {
        mantissa = default;
        exponent = 0;
        var s = text.AsSpan().Trim();
        var e = s.IndexOfAny('e', 'E');
        if (e >= 0)
        {
            if (!int.TryParse(s[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent)) return false;
            s = s[..e];
        }

        var negative = s.Length > 0 && s[0] == '-';
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+')) s = s[1..];
        var dot = s.IndexOf('.');
        var digits = dot < 0 ? s.ToString() : string.Concat(s[..dot], s[(dot + 1)..]);
        if (dot >= 0) exponent -= s.Length - dot - 1;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)) return false;
        mantissa = BigInteger.Parse(digits, CultureInfo.InvariantCulture);
        if (negative) mantissa = -mantissa;
        return true;
    }
}
