using System.Buffers;
using System.ComponentModel;
using System.Text;
using System.Text.Json;
using AnyDefNet.Internal;

namespace AnyDefNet.Generated;

internal static class AnyDefFunctionPaths
{
    public static string Of(string parameter, Exception ex) =>
        (ex as JsonException)?.Path is { Length: > 1 } path ? parameter + path[1..] : parameter;
}

/// <summary>The arguments of one call of an <see cref="AnyDefAttribute"/> method, written as JSON in parameter order.
/// Written by the AnyDef source generator; not for direct use.</summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class DeclaredArguments
{
    private readonly string _functionName;
    private readonly JsonSerializerOptions _options;
    private readonly ArrayBufferWriter<byte> _buffer = new(256);
    private readonly Utf8JsonWriter _writer;
    private readonly IReadOnlyList<ParameterSpec>? _parameters;
    private readonly List<string> _descriptors = [];
    private bool _special;

    internal DeclaredArguments(string functionName, JsonSerializerOptions options, IReadOnlyList<ParameterSpec>? parameters = null)
    {
        _functionName = functionName;
        _options = options;
        _parameters = parameters;
        _writer = new Utf8JsonWriter(_buffer, new JsonWriterOptions { MaxDepth = Json.MaxDepth + 2 });
        _writer.WriteStartArray();
        _writer.WriteStartArray();
    }

    /// <summary>Adds the next argument, written with the JSON metadata of its declared type (no reflection where the
    /// application does not allow it).</summary>
    /// <exception cref="ArgumentSerializationException">The value cannot be written as JSON.</exception>
    public DeclaredArguments Add<T>(T value)
    {
        var index = _descriptors.Count;
        try
        {
            Internal.Values.WireMarks.Special = false;
            JsonSerializer.Serialize(_writer, value, Json.TypeInfo<T>(_options));
            _special |= Internal.Values.WireMarks.Special;
            _descriptors.Add(Internal.Values.WireTypes.Describe(typeof(T), _options));
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            var parameter = _parameters?.ElementAtOrDefault(index);
            throw new ArgumentSerializationException(_functionName, typeof(T), AnyDefFunctionPaths.Of(parameter?.PythonName ?? $"argument {index + 1}", ex), typeof(T),
                parameter?.Hint ?? "?", ex);
        }

        return this;
    }

    /// <summary>The packed call: <c>[[positional...], {}]</c>.</summary>
    internal string Pack()
    {
        _writer.WriteEndArray();
        _writer.WriteStartObject();
        _writer.WriteEndObject();
        // Decimals and non-finite floats need their types in Python: the call carries where they are.
        if (_special)
        {
            _writer.WriteStartArray();
            foreach (var d in _descriptors) _writer.WriteRawValue(d);
            _writer.WriteEndArray();
        }

        _writer.WriteEndArray();
        _writer.Flush();
        _writer.Dispose();
        return Encoding.UTF8.GetString(_buffer.WrittenSpan);
    }
}
