using System.Text.Json;

namespace AnyDefNet.Agents;

/// <summary>What one cell did: what it printed, the value of its last expression, or its error, each bounded by
/// <see cref="RunPythonOptions"/>.</summary>
public sealed record PythonRunResult
{
    /// <summary>What the cell printed (standard output and error together), cut at <see cref="RunPythonOptions.MaxOutputCharacters"/>.</summary>
    public string Output { get; init; } = "";

    /// <summary>Whether <see cref="Output"/> was cut.</summary>
    public bool OutputTruncated { get; init; }

    /// <summary>The value of the cell's last expression as JSON text, when it had one that is JSON (and was not cut); else null.</summary>
    public string? ResultJson { get; init; }

    /// <summary>The <c>repr</c> of the last expression's value when it is not JSON, or the first characters of a value that was
    /// too long; else null.</summary>
    public string? ResultText { get; init; }

    /// <summary>Whether the value was cut at <see cref="RunPythonOptions.MaxResultCharacters"/>.</summary>
    public bool ResultTruncated { get; init; }

    /// <summary>The error, if the cell failed: the traceback of its own frames and the exception, or what the sandbox did (a
    /// timeout, an ended process), cut at <see cref="RunPythonOptions.MaxErrorCharacters"/>.</summary>
    public string? Error { get; init; }

    /// <summary>The session the cell ran in, or null for a stateless cell.</summary>
    public string? Session { get; init; }

    /// <summary>Set when the cell's session ended with this cell (its process was ended): why; later cells of the session fail.</summary>
    public string? SessionEnded { get; init; }

    /// <summary>Whether the cell ran to its end without an error.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The result as the tool sends it to a model: a JSON object with only the parts that are there
    /// (<c>output</c>, <c>result</c> or <c>result_repr</c>, <c>error</c>, <c>session</c>, and the <c>*_truncated</c> flags).</summary>
    public JsonElement ToJson()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            if (Session is not null) w.WriteString("session", Session);
            if (Output.Length > 0) w.WriteString("output", Output);
            if (OutputTruncated) w.WriteBoolean("output_truncated", true);
            if (ResultJson is not null)
            {
                w.WritePropertyName("result");
                w.WriteRawValue(ResultJson, skipInputValidation: true);
            }

            if (ResultText is not null) w.WriteString("result_repr", ResultText);
            if (ResultTruncated) w.WriteBoolean("result_truncated", true);
            if (Error is not null) w.WriteString("error", Error);
            if (SessionEnded is not null) w.WriteString("session_ended", SessionEnded);
            w.WriteEndObject();
        }

        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
