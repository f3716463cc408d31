using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;

namespace AnyDefNet.Internal.Values;

/// <summary>Converts Python's result to the declared type, or names where and why it does not fit.</summary>
internal static partial class ResultReader
{
    public static T Read<T>(string json, JsonTypeInfo<T> info, bool allowsNull, string functionName, string code)
    {
        try
        {
            var value = JsonSerializer.Deserialize(json, info);
            NullCheck.Validate(value, typeof(T), allowsNull);
            return value!;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or FormatException or OverflowException)
        {
            var (path, pythonType) = Locate(json, ex);
            throw new ResultConversionException(functionName, json, typeof(T), code, ex, path, pythonType, Detail(ex));
        }
    }

    /// <summary>The result path (<c>result.tags[1]</c>) and the Python type of the value there.</summary>
    internal static (string Path, string PythonType) Locate(string json, Exception ex)
    {
        var path = (ex as JsonException)?.Path ?? "$";
        if (MissingMember().Match(ex.Message) is { Success: true } missing) path += "." + missing.Groups[1].Value;
        var pythonType = "value";
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4096 });
            pythonType = Navigate(doc.RootElement, path) is { } element ? WireText.PythonType(element) : "nothing (the key is missing)";
        }
        catch (JsonException)
        {
        }

        return ("result" + path[1..], pythonType);
    }

    // STJ's own messages end with where it was; the path is reported apart.
    internal static string Detail(Exception ex)
    {
        var message = ex.Message;
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        message = at > 0 ? message[..at] : message;
        return message.EndsWith('.') ? message : message + ".";
    }

    private static JsonElement? Navigate(JsonElement element, string path)
    {
        foreach (Match m in Segment().Matches(path))
        {
            if (m.Groups["index"].Success)
            {
                var i = int.Parse(m.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                if (element.ValueKind != JsonValueKind.Array || i >= element.GetArrayLength()) return null;
                element = element[i];
            }
            else
            {
                var name = m.Groups["name"].Success ? m.Groups["name"].Value : m.Groups["quoted"].Value;
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element)) return null;
            }
        }

        return element;
    }

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\[(?<index>\d+)\]|\['(?<quoted>(?:[^']|'(?!\]))*)'\]")]
    private static partial Regex Segment();

    [GeneratedRegex(@"missing required properties including: '([^']+)'")]
    private static partial Regex MissingMember();
}
