using AnyDefNet.Agents;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Cli;

/// <summary>The reviewed functions of a store folder as tools: each runs its stored code, as written, in the sandbox (frozen:
/// no model is ever asked), with a schema made from the signature and description in its header.</summary>
internal static class StoredTools
{
    public static IReadOnlyList<AIFunction> Read(string folder, PythonSandbox sandbox, TimeSpan timeout)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The store folder '{folder}' does not exist.");
        var tools = new List<AIFunction>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in new DirectoryCodeStore(folder).List())
        {
            var file = Path.GetFileName(stored.Path);
            if (!stored.Reviewed)
            {
                Console.Error.WriteLine($"anydef mcp: skipping {file}: not reviewed (set 'reviewed: true' in its header after reading it)");
                continue;
            }

            var (signature, description) = Header(File.ReadAllText(stored.Path));
            FunctionSpec spec;
            try
            {
                spec = FunctionSpec.FromSignature(signature ?? throw new FormatException("its header has no signature line"),
                    description ?? throw new FormatException("its header has no description"));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                Console.Error.WriteLine($"anydef mcp: skipping {file}: {ex.Message}");
                continue;
            }

            if (!names.Add(spec.Name))
            {
                Console.Error.WriteLine($"anydef mcp: skipping {file}: another file already serves '{spec.Name}'");
                continue;
            }

            var code = stored.Code;
            tools.Add(new FunctionTool(spec, async (packed, ct) =>
                (await sandbox.CallAsync(code, spec.Name, packed, timeout, ct).ConfigureAwait(false)).ResultJson));
        }

        return tools;
    }

    private static (string? Signature, string? Description) Header(string text)
    {
        string? signature = null;
        var description = new List<string>();
        var inDescription = false;
        foreach (var line in text.Replace("\r\n", "\n").Split('\n'))
        {
            if (!line.StartsWith('#')) break;
            var body = line.TrimStart('#');
            if (inDescription && body.StartsWith("   ", StringComparison.Ordinal))
            {
                description.Add(body.Trim());
                continue;
            }

            inDescription = false;
            var trimmed = body.Trim();
            if (trimmed.StartsWith("signature:", StringComparison.Ordinal)) signature = trimmed["signature:".Length..].Trim();
            else if (trimmed.StartsWith("description:", StringComparison.Ordinal))
            {
                inDescription = true;
                if (trimmed["description:".Length..].Trim() is { Length: > 0 } inline) description.Add(inline);
            }
        }

        return (signature, description.Count > 0 ? string.Join("\n", description) : null);
    }
}
