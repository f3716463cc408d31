using System.Buffers;
using System.ComponentModel;
using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;

namespace AnyDefNet.Generated;

/// <summary>The arguments of one call of an <see cref="AnyDefAttribute"/> method, written as JSON in parameter order.
/// Written by the AnyDef source generator; not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DeclaredArguments
{
    private readonly string _functionName;
    private readonly JsonSerializerOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;

    internal DeclaredArguments(string functionName, JsonSerializerOptions options)
    {
        _functionName = functionName;
        _options = options;
        _writer = new Utf8JsonWriter(_buffer);
        _writer.WriteStartArray();
        _writer.WriteStartArray();
    }

    /// <summary>Adds the next argument, written with the JSON metadata of its declared type (no reflection where the
    /// application does not allow it).</summary>
    /// <exception cref="ArgumentSerializationException">The value cannot be written as JSON.</exception>
    public DeclaredArguments Add<T>(T value)
    {
        try
        {
            JsonSerializer.Serialize(_writer, value, Json.TypeInfo<T>(_options));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new ArgumentSerializationException(_functionName, typeof(T), ex);
        }

        return this;
    }

    /// <summary>The packed call: <c>[[positional...], {}]</c>.</summary>
    internal string Pack()
    {
        _writer.WriteEndArray();
        _writer.WriteStartObject();
        _writer.WriteEndObject();
        _writer.WriteEndArray();
        _writer.Flush();
        _writer.Dispose();
        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }
}
