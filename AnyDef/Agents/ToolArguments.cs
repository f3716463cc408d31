using System.Text.Json;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

/// <summary>Reads a tool's arguments whatever shape the caller gave them (JSON elements from a model, .NET values from code).</summary>
internal static class ToolArguments
{
    public static JsonElement? Get(AIFunctionArguments arguments, string name)
    {
        if (!arguments.TryGetValue(name, out var value)) return null;
        return value switch
        {
            null => null,
            JsonElement e => e.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null ? null : e,
            string s => JsonSerializer.SerializeToElement(s, Internal.LibraryJson.Default.String),
            _ => JsonSerializer.SerializeToElement(value, AIJsonUtilities.DefaultOptions.GetTypeInfo(value.GetType())),
        };
    }

    public static string? GetString(AIFunctionArguments arguments, string name) =>
        Get(arguments, name) is { } e ? e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText() : null;

    public static JsonElement Schema(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    public static JsonElement Error(string message)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(128);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
