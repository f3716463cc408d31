using System.Text;
using Microsoft.Extensions.AI;

namespace AnyDefNet.Generation;

/// <summary>The messages that ask a model for a function, and those that ask it to repair one.</summary>
internal static class Prompt
{
    public const string System =
        """
        You write one Python {python} function. Rules:
        - Implement exactly the signature given, with the same name and parameters, and nothing the caller must call first.
        - Pure function: no input or output of any kind (no files, network, environment, subprocesses, input(), threads).
        - Standard library only; import inside the function or at the top of the module.
        - Return JSON-serialisable data only: dict with str keys, list, str, int, float, bool or None.
          A TypedDict result is a plain dict with exactly those keys; a decimal.Decimal hint means a decimal.Decimal.
        - Raise a built-in exception (ValueError, TypeError, ...) with a clear message for invalid input.
        Reply with the complete code in one ```python fenced block and nothing else.
        """;

    private const string StandardLibraryOnly = "- Standard library only; import inside the function or at the top of the module.";

    /// <summary>The rules, naming the packages (with their versions) the code may import besides the standard library.</summary>
    public static string SystemFor(IReadOnlyList<Packages.InstalledPackage> packages, string pythonVersion = DefaultPythonVersion) =>
        (packages.Count == 0
            ? System
            : System.Replace(StandardLibraryOnly,
                "- Standard library and these packages only (nothing else can be installed): " +
                string.Join(", ", packages.Select(p => $"{p.Name} {p.Version}" + (p.Imports.Count == 1 && p.Imports[0] == p.Name ? "" : $" (import {string.Join(", ", p.Imports)})"))) +
                "; import inside the function or at the top of the module.", StringComparison.Ordinal))
            .Replace("{python}", pythonVersion, StringComparison.Ordinal);

    /// <summary>The version of the pinned runtime, used when the sandbox's own cannot be read.</summary>
    public const string DefaultPythonVersion = "3.14";

    public static List<ChatMessage> For(FunctionSpec spec, IReadOnlyList<Packages.InstalledPackage>? packages = null, string pythonVersion = DefaultPythonVersion)
    {
        var user = new StringBuilder();
        user.AppendLine("Write this function:").AppendLine().AppendLine("```python");
        var usesDecimal = spec.Signature.Contains("decimal.Decimal", StringComparison.Ordinal) ||
                          spec.TypeDefinitions.Any(d => d.Contains("decimal.Decimal", StringComparison.Ordinal));
        if (usesDecimal) user.AppendLine("import decimal");
        if (spec.TypeDefinitions.Count > 0)
        {
            user.AppendLine("from typing import Any, Literal, TypedDict").AppendLine();
            foreach (var d in spec.TypeDefinitions) user.AppendLine(d).AppendLine();
        }

        user.AppendLine(spec.Signature + ":");
        user.AppendLine("    \"\"\"");
        foreach (var line in spec.Description.Split('\n')) user.AppendLine("    " + line.TrimEnd());
        user.AppendLine("    \"\"\"").AppendLine("```").AppendLine();
        if (spec.Parameters.Count > 0)
        {
            user.AppendLine("Parameters (the caller's C# types, for reference):");
            foreach (var p in spec.Parameters) user.AppendLine($"- {p.PythonName}: {p.Hint} (C# {p.ClrType} {p.ClrName})");
        }

        user.AppendLine($"Returns: {spec.ReturnHint}");
        if (spec.Examples.Count > 0)
        {
            user.AppendLine().AppendLine("It must satisfy these examples exactly:");
            foreach (var e in spec.Examples) user.AppendLine("    assert " + e);
        }
        return [new ChatMessage(ChatRole.System, SystemFor(packages ?? [], pythonVersion)), new ChatMessage(ChatRole.User, user.ToString())];
    }
}
