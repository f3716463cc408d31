using System.Text;
using System.Text.Json;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>One reply of the host, already split into the host's verdict and Python's own payload.</summary>
/// <remarks>The payload is parsed once from the reply's bytes; whoever takes the reply disposes it.</remarks>
internal sealed record HostReply(bool Ok, JsonDocument? Payload, string Output, string? ErrorKind, string? ErrorMessage) : IDisposable
{
    public static HostReply Failure(string kind, string message) => new(false, null, "", kind, message);

    public void Dispose() => Payload?.Dispose();

    /// <summary>
    /// Reads one line of the protocol without copying it more than once: the id, the verdict, the output, and the
    /// payload (a JSON text inside a JSON string) unescaped straight into its own buffer.
    /// </summary>
    /// <returns>Null and a <paramref name="problem"/> naming what was wrong when the line cannot be understood.</returns>
    public static Line? ReadLine(ReadOnlySpan<byte> line, out string? problem)
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

            var result = new Line();
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                reader.Read();
                switch (name)
                {
                    case "ready":
                        result.Ready = true;
                        reader.Skip();
                        break;
                    case "id" when reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var id):
                        result.Id = id;
                        break;
                    case "ok" when reader.TokenType is JsonTokenType.True or JsonTokenType.False:
                        result.Ok = reader.GetBoolean();
                        break;
                    case "exiting":
                        result.Exiting = reader.TokenType == JsonTokenType.True;
                        break;
                    case "stdout" when reader.TokenType == JsonTokenType.String:
                        result.Output = reader.GetString();
                        break;
                    case "reply":
                        if (reader.TokenType != JsonTokenType.String) result.ReplyProblem = $"\"reply\" is {Describe(reader.TokenType)}, not a string";
                        else
                        {
                            var bytes = GC.AllocateUninitializedArray<byte>(reader.ValueSpan.Length);
                            result.Reply = bytes.AsMemory(0, reader.CopyString(bytes));
                        }

                        break;
                    case "error" when reader.TokenType == JsonTokenType.StartObject:
                        using (var error = JsonDocument.ParseValue(ref reader))
                        {
                            result.ErrorKind = error.RootElement.TryGetProperty("kind", out var k) && k.ValueKind == JsonValueKind.String ? k.GetString() : null;
                            result.ErrorMessage = error.RootElement.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                        }

                        break;
                    default:
                        if (name is "id" or "ok" or "stdout" or "error") result.ReplyProblem ??= $"\"{name}\" is {Describe(reader.TokenType)}";
                        reader.Skip();
                        break;
                }
            }

            return result;
        }
        catch (JsonException ex)
        {
            problem = $"a line that is not JSON ({ex.Message}): {Preview(line)}";
            return null;
        }
    }

    /// <summary>Turns a line that answers <paramref name="op"/> into a reply, or names what was wrong with it.</summary>
    public static HostReply? From(Line line, string op, out string? problem)
    {
        problem = line.ReplyProblem;
        if (problem is not null) return null;
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

            return new HostReply(false, null, output, line.ErrorKind, line.ErrorMessage ?? "");
        }

        if (line.Reply is not { } reply)
        {
            problem = "a successful reply without its \"reply\" text";
            return null;
        }

        JsonDocument payload;
        try
        {
            payload = JsonDocument.Parse(reply);
        }
        catch (JsonException ex)
        {
            problem = $"a payload that is not JSON ({ex.Message}): {Preview(reply.Span)}";
            return null;
        }

        var expected = op == "batch" ? JsonValueKind.Array : JsonValueKind.Object;
        if (payload.RootElement.ValueKind != expected)
        {
            problem = $"a payload that is {payload.RootElement.ValueKind.ToString().ToLowerInvariant()}, not {expected.ToString().ToLowerInvariant()}";
            payload.Dispose();
            return null;
        }

        return new HostReply(true, payload, output, null, null);
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

        public string? ReplyProblem { get; set; }
    }
}
