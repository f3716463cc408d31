using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>One reply of the host, already split into the host's verdict and Python's own payload (validated JSON).</summary>
/// <remarks>The payload is parsed into a document only when asked for; whoever takes the reply disposes it.</remarks>
internal sealed class HostReply(bool ok, ReadOnlyMemory<byte> payloadBytes, string output, string? errorKind, string? errorMessage) : IDisposable
{
    private JsonDocument? _payload;

    // Python's payload is read at any depth it can emit; the declared result type then applies the one limit
    // (Json.MaxDepth), so deep data is a typed error for its call, not a broken protocol line.
    private const int PayloadDepth = 1 << 20;

    /// <summary>The most characters of a call's captured output (print and stderr) the host passes on; the rest is cut.</summary>
    internal const int MaxOutputChars = 64 * 1024;

    public bool Ok { get; } = ok;

    public string Output { get; } = output;

    public string? ErrorKind { get; } = errorKind;

    public string? ErrorMessage { get; } = errorMessage;

    /// <summary>Python's payload as a document (parsed on first use).</summary>
    public JsonDocument Payload => _payload ??= JsonDocument.Parse(payloadBytes, new JsonDocumentOptions { MaxDepth = PayloadDepth });

    public static HostReply Failure(string kind, string message) => new(false, default, "", kind, message);

    public void Dispose() => _payload?.Dispose();

    /// <summary>
    /// The raw JSON of <c>result</c> when the payload is <c>{"ok": true, "result": ...}</c>, read in place: a large result
    /// becomes one string without a document beside it.
    /// </summary>
    public bool TryGetResult(out string resultJson)
    {
        resultJson = "";
        var reader = new Utf8JsonReader(payloadBytes.Span, new JsonReaderOptions { MaxDepth = PayloadDepth });
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;
        bool? ok = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("ok"u8))
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.True) return false;
                ok = true;
            }
            else if (reader.ValueTextEquals("result"u8) && ok == true)
            {
                reader.Read();
                var from = (int)reader.TokenStartIndex;
                reader.Skip();
                var to = (int)reader.BytesConsumed;
                resultJson = Encoding.UTF8.GetString(payloadBytes.Span[from..to]);
                return true;
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }

        return false;
    }

    /// <summary>
    /// Reads one line of the protocol without copying it more than once: the id, the verdict, the output, and the
    /// payload (a JSON text inside a JSON string) unescaped straight into its own buffer.
    /// </summary>
    /// <returns>Null and a <paramref name="problem"/> naming what was wrong when the line cannot be understood.</returns>
    public static Line? ReadLine(ReadOnlySequence<byte> line, out string? problem)
    {
        problem = null;
        try
        {
            var reader = new Utf8JsonReader(line, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "a line that is not a JSON object";
                return null;
            }

            // Every field's value is read whole, whatever its type: a value of the wrong type is a broken line, never a
            // container whose insides are read as fields of the line itself.
            var result = new Line();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = FieldName(ref reader);
                reader.Read();
                var type = reader.TokenType;
                var fits = true;
                switch (name)
                {
                    case "ready":
                        fits = type is JsonTokenType.True;
                        result.Ready = fits;
                        break;
                    case "id":
                        fits = type == JsonTokenType.Number && reader.TryGetInt64(out var id) && Set(result, id);
                        break;
                    case "ok":
                        fits = type is JsonTokenType.True or JsonTokenType.False;
                        if (fits) result.Ok = reader.GetBoolean();
                        break;
                    case "exiting":
                        fits = type is JsonTokenType.True or JsonTokenType.False;
                        result.Exiting = type == JsonTokenType.True;
                        break;
                    case "busy":
                        fits = type == JsonTokenType.Number && reader.TryGetInt64(out var busy) && busy >= 0;
                        if (fits) result.BusyMicroseconds = reader.GetInt64();
                        break;
                    case "prof":
                        fits = type == JsonTokenType.StartArray;
                        if (!fits) break;
                        var stages = new List<double>();
                        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        {
                            if (reader.TokenType == JsonTokenType.Number) stages.Add(reader.GetDouble());
                            else
                            {
                                fits = false;
                                reader.Skip();
                            }
                        }

                        result.Profile = [.. stages];
                        break;
                    case "stdout":
                        fits = type == JsonTokenType.String;
                        if (!fits) break;
                        // The host caps a call's output; one past that cap (as escaped JSON) is a host that lost its own bookkeeping.
                        if ((reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length) > MaxOutputChars * 6L)
                        {
                            problem = $"a line whose \"stdout\" is longer than the output limit of {MaxOutputChars} characters";
                            return null;
                        }

                        result.Output = reader.GetString();
                        break;
                    case "reply":
                        fits = type == JsonTokenType.String;
                        if (fits)
                        {
                            var bytes = GC.AllocateUninitializedArray<byte>(checked((int)(reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length)));
                            result.Reply = bytes.AsMemory(0, reader.CopyString(bytes));
                        }

                        break;
                    case "error":
                        fits = type == JsonTokenType.StartObject;
                        if (!fits) break;
                        using (var error = JsonDocument.ParseValue(ref reader))
                        {
                            result.ErrorKind = error.RootElement.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
                            result.ErrorMessage = error.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                        }

                        break;
                    default:
                        reader.Skip();
                        break;
                }

                if (!fits)
                {
                    problem = $"a line whose \"{name}\" is {Describe(type)}";
                    return null;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || reader.Read())
            {
                problem = "a line that is not one JSON object";
                return null;
            }

            return result;
        }
        catch (JsonException ex)
        {
            problem = $"a line that is not JSON ({ex.Message}): {Preview(line.Slice(0, Math.Min(line.Length, 201)).ToArray())}";
            return null;
        }
    }

    private static bool Set(Line line, long id)
    {
        line.Id = id;
        return true;
    }

    // The protocol's field names as constants (no string per field of every reply); null for any other name.
    private static string? FieldName(ref Utf8JsonReader reader) =>
        reader.ValueTextEquals("id"u8) ? "id"
        : reader.ValueTextEquals("ok"u8) ? "ok"
        : reader.ValueTextEquals("reply"u8) ? "reply"
        : reader.ValueTextEquals("stdout"u8) ? "stdout"
        : reader.ValueTextEquals("error"u8) ? "error"
        : reader.ValueTextEquals("exiting"u8) ? "exiting"
        : reader.ValueTextEquals("prof"u8) ? "prof"
        : reader.ValueTextEquals("busy"u8) ? "busy"
        : reader.ValueTextEquals("ready"u8) ? "ready"
        : null;

    /// <summary>Turns a line that answers <paramref name="op"/> into a reply, or names what was wrong with it.</summary>
    public static HostReply? From(Line line, string op, out string? problem)
    {
        problem = null;
        if (line.Ok is not { } ok)
        {
            problem = "a reply without a boolean \"ok\"";
            return null;
        }

        var output = line.Output ?? "";
        if (!ok)
        {
            if (line.ErrorKind is null)
            {
                problem = "a failed reply without an \"error\" object naming its \"kind\"";
                return null;
            }

            return new HostReply(false, default, output, line.ErrorKind, line.ErrorMessage ?? "");
        }

        if (line.Reply is not { } reply)
        {
            problem = "a successful reply without its \"reply\" text";
            return null;
        }

        // Checked in place (a document of a large payload would cost as much as the payload again).
        const JsonTokenType expected = JsonTokenType.StartObject;
        try
        {
            var reader = new Utf8JsonReader(reply.Span, new JsonReaderOptions { MaxDepth = PayloadDepth });
            reader.Read();
            if (reader.TokenType != expected)
            {
                problem = $"a payload that is {Describe(reader.TokenType)}, not {Describe(expected)}";
                return null;
            }

            reader.Skip();
            if (reader.Read()) throw new JsonException("data after the JSON value");
        }
        catch (JsonException ex)
        {
            problem = $"a payload that is not JSON ({ex.Message}): {Preview(reply.Span)}";
            return null;
        }

        return new HostReply(true, reply, output, null, null);
    }

    private static string Describe(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => "a string",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        _ => token.ToString(),
    };

    private static string Preview(ReadOnlySpan<byte> bytes) =>
        Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, 200)]) + (bytes.Length > 200 ? "…" : "");

    /// <summary>The fields of one protocol line.</summary>
    public sealed class Line
    {
        public bool Ready { get; set; }

        public long? Id { get; set; }

        public bool? Ok { get; set; }

        public bool Exiting { get; set; }

        public string? Output { get; set; }

        public ReadOnlyMemory<byte>? Reply { get; set; }

        public string? ErrorKind { get; set; }

        public string? ErrorMessage { get; set; }

        public double[]? Profile { get; set; }

        /// <summary>On the last reply of a group of calls: the average time in Python of the group's calls, in µs, as the
        /// worker measured them.</summary>
        public long? BusyMicroseconds { get; set; }
    }
}
