using Microsoft.Extensions.AI;

namespace AnyDefNet.Agents;

public static partial class AnyDefTools
{
    /// <summary>The reviewed functions of a store folder as tools: each runs its stored code, as written, in the sandbox (frozen:
    /// no model is ever asked), with a schema made from the signature and description in its file's header.</summary>
    /// <param name="folder">The store folder (as written by <see cref="DirectoryCodeStore"/> or <c>anydef generate</c>).</param>
    /// <param name="sandbox">The sandbox the functions run in.</param>
    /// <param name="timeout">How long one call may run.</param>
    /// <param name="skipped">Told, for each file that is not served, its name and why (not reviewed, no signature, a name
    /// another file already serves); null to ignore.</param>
    /// <returns>One tool per reviewed function with a signature.</returns>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    public static IReadOnlyList<AIFunction> FromStore(string folder, PythonSandbox sandbox, TimeSpan timeout, Action<string>? skipped = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(sandbox);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"The store folder '{folder}' does not exist.");
        var tools = new List<AIFunction>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stored in new DirectoryCodeStore(folder).List())
        {
            var file = Path.GetFileName(stored.Path);
            if (!stored.Reviewed)
            {
                skipped?.Invoke($"skipping {file}: not reviewed (set 'reviewed: true' in its header after reading it)");
                continue;
            }

            var (signature, description) = StoreHeader(File.ReadAllText(stored.Path));
            FunctionSpec spec;
            try
            {
                spec = FunctionSpec.FromSignature(signature ?? throw new FormatException("its header has no signature line"),
                    description ?? throw new FormatException("its header has no description"));
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                skipped?.Invoke($"skipping {file}: {ex.Message}");
                continue;
            }

            if (!names.Add(spec.Name))
            {
                skipped?.Invoke($"skipping {file}: another file already serves '{spec.Name}'");
                continue;
            }

            var code = stored.Code;
            tools.Add(new FunctionTool(spec, async (packed, ct) =>
                (await sandbox.CallAsync(code, spec.Name, packed, timeout, ct).ConfigureAwait(false)).ResultJson));
        }

        return tools;
    }

    private static (string? Signature, string? Description) StoreHeader(string text)
    {
        string? signature = null;
        var description = new List<string>();
        var inDescription = false;
        foreach (var line in text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n'))
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
