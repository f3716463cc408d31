using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AnyDefNet;

/// <summary>
/// What the model is asked to write: the function's name, Python signature, docstring and the types it uses.
/// Its <see cref="Hash"/> keys the cache and the store.
/// </summary>
public sealed record FunctionSpec
{
    /// <summary>Bump to invalidate every stored and cached function when the prompt changes meaning.</summary>
    public const int PromptVersion = 1;

    /// <summary>Creates a spec from its parts; <see cref="For{TArgs,TResult}(string, string)"/> builds one from C# types.</summary>
    public FunctionSpec(string name, string description, IReadOnlyList<ParameterSpec> parameters, string returnHint, IReadOnlyList<string> typeDefinitions,
        IReadOnlyList<string>? examples = null)
        : this(name, description, parameters, returnHint, typeDefinitions, examples, signature: null)
    {
    }

    private FunctionSpec(string name, string description, IReadOnlyList<ParameterSpec> parameters, string returnHint, IReadOnlyList<string> typeDefinitions,
        IReadOnlyList<string>? examples, string? signature, PackageSet? packages = null)
    {
        if (!Specs.Naming.IsPythonIdentifier(name))
        {
            throw new ArgumentException($"'{name}' is not a valid Python function name: use letters, digits and underscores, not starting with a digit, and no keyword.", nameof(name));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(description);
        Name = name;
        Description = description.Trim();
        Parameters = parameters;
        ReturnHint = returnHint;
        TypeDefinitions = typeDefinitions;
        Examples = examples ?? [];
        Packages = packages ?? PackageSet.Empty;
        Signature = signature ?? $"def {name}({string.Join(", ", parameters.Select(p => $"{p.PythonName}: {p.Hint}" + (p.Default is null ? "" : $" = {p.Default}")))}) -> {returnHint}";
        Hash = ComputeHash();
    }

    /// <summary>The Python function name.</summary>
    public string Name { get; }

    /// <summary>What the function does, in the user's words; it becomes the docstring.</summary>
    public string Description { get; }

    /// <summary>The parameters, in order.</summary>
    public IReadOnlyList<ParameterSpec> Parameters { get; }

    /// <summary>The Python type hint of the result.</summary>
    public string ReturnHint { get; }

    /// <summary>TypedDict definitions of the records the signature uses.</summary>
    public IReadOnlyList<string> TypeDefinitions { get; }

    /// <summary>Examples the code must reproduce, as Python lines such as <c>add(1, 2) == 3</c>.</summary>
    public IReadOnlyList<string> Examples { get; }

    /// <summary>The Python packages the code may import besides the standard library.</summary>
    public PackageSet Packages { get; }

    /// <summary>The Python signature line, without the trailing colon.</summary>
    public string Signature { get; }

    /// <summary>A stable hash of everything that shapes the generated code (name, signature, types, description, prompt version).</summary>
    public string Hash { get; }

    /// <summary>A copy of this spec whose code may import <paramref name="packages"/> (and the ones it already had).</summary>
    /// <param name="packages">Package names, such as <c>numpy</c> or <c>python-dateutil</c>.</param>
    public FunctionSpec WithPackages(IEnumerable<string> packages)
    {
        var all = Packages.Union(PackageSet.From(packages));
        return all.Equals(Packages) ? this : new FunctionSpec(Name, Description, Parameters, ReturnHint, TypeDefinitions, Examples, Signature, all);
    }

    /// <summary>Builds the spec of a function whose parameters are the properties of <typeparamref name="TArgs"/>.</summary>
    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(Internal.Json.ReflectionMessage)]
    public static FunctionSpec For<TArgs, TResult>(string name, string description) => For<TArgs, TResult>(name, description, []);

    [System.Diagnostics.CodeAnalysis.RequiresUnreferencedCode(Internal.Json.ReflectionMessage)]
    internal static FunctionSpec For<TArgs, TResult>(string name, string description, IReadOnlyList<string> examples)
    {
        var types = new Specs.PythonTypes();
        var parameters = Specs.PythonTypes.Properties(typeof(TArgs))
            .Select(p => new ParameterSpec(Specs.Naming.Parameter(p.Name), p.Name, types.Hint(p), FriendlyName(p.PropertyType)))
            .ToList();
        var returnHint = types.Hint(typeof(TResult));
        return new FunctionSpec(name, description, parameters, returnHint, types.Definitions, examples);
    }

    /// <summary>Builds the spec of a function declared by a Python signature line, such as <c>def slugify(text: str, max_len: int = 40) -> str</c>.</summary>
    /// <param name="signature">The <c>def</c> line; parameter defaults are kept, <c>*args</c> and <c>**kwargs</c> are not allowed.</param>
    /// <param name="docstring">What the function does.</param>
    public static FunctionSpec FromSignature(string signature, string docstring)
    {
        var (name, parameters, returnHint, normalized) = Specs.PythonSignature.Parse(signature);
        return new FunctionSpec(name, docstring, parameters, returnHint, [], [], normalized);
    }

    private string ComputeHash()
    {
        // Examples and packages join the hash only when there are some, so declaring none keeps the hash of earlier versions.
        // The canonical form is a compact JSON array of strings and string arrays, written without reflection.
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartArray();
            w.WriteNumberValue(PromptVersion);
            w.WriteStringValue(Name);
            w.WriteStringValue(Signature);
            WriteStrings(w, TypeDefinitions);
            w.WriteStringValue(Description);
            if (Examples.Count > 0 || Packages.Count > 0) WriteStrings(w, Examples);
            if (Packages.Count > 0) WriteStrings(w, Packages);
            w.WriteEndArray();
        }

        return Convert.ToHexString(SHA256.HashData(buffer.WrittenSpan)).ToLowerInvariant();
    }

    private static void WriteStrings(Utf8JsonWriter writer, IEnumerable<string> values)
    {
        writer.WriteStartArray();
        foreach (var value in values) writer.WriteStringValue(value);
        writer.WriteEndArray();
    }

    internal static string FriendlyName(Type t)
    {
        if (Nullable.GetUnderlyingType(t) is { } inner) return FriendlyName(inner) + "?";
        if (t.IsArray) return FriendlyName(t.GetElementType()!) + "[]";
        if (!t.IsGenericType) return t.Name;
        return t.Name.Split('`')[0] + "<" + string.Join(", ", t.GetGenericArguments().Select(FriendlyName)) + ">";
    }
}
