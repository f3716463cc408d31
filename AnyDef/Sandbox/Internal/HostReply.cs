using System.Text.Json;

namespace AnyDefNet.Sandbox.Internal;

/// <summary>One reply of the host, already split into the host's verdict and Python's own payload.</summary>
internal sealed record HostReply(bool Ok, string? Payload, string Output, string? ErrorKind, string? ErrorMessage)
{
    public static HostReply Parse(JsonElement root)
    {
        var output = root.TryGetProperty("stdout", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()! : "";
        if (root.GetProperty("ok").GetBoolean())
        {
            return new HostReply(true, root.GetProperty("reply").GetString(), output, null, null);
        }

        var error = root.GetProperty("error");
        return new HostReply(false, null, output, error.GetProperty("kind").GetString(), error.GetProperty("message").GetString());
    }
}
