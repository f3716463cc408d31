namespace AnyDefNet;

/// <summary>One function read from a <see cref="DirectoryCodeStore"/>.</summary>
/// <param name="Path">The file.</param>
/// <param name="Name">The function name from the header.</param>
/// <param name="SpecHash">The spec hash from the header.</param>
/// <param name="Source">Where the code came from, as the header says (a model's name, or "hand-written").</param>
/// <param name="Reviewed">Whether a person marked it reviewed.</param>
/// <param name="Code">The Python code below the header.</param>
public sealed record StoredFunction(string Path, string Name, string? SpecHash, string? Source, bool Reviewed, string Code)
{
    /// <summary>The packages (with versions and SHA-256) the code was written and reviewed against, as the header records them; null when none.</summary>
    public string? Packages { get; init; }

    /// <summary>The tokens its generation used, from the header's <c>tokens</c> line; null when the header has none.</summary>
    public TokenUsage? Usage { get; init; }
}
