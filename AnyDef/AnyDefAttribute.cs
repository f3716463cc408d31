namespace AnyDefNet;

/// <summary>
/// Marks a <c>partial</c> method whose body AnyDef writes: its signature and documentation are the spec, a language model
/// writes the Python code once (or <c>anydef generate</c> does, at build time), and every call runs it in the sandbox.
/// </summary>
/// <example>
/// <code>
/// public static partial class Text
/// {
///     /// &lt;summary&gt;Lower-case the title and join its words with single hyphens.&lt;/summary&gt;
///     [AnyDef]
///     public static partial string Slugify(string title);
/// }
/// </code>
/// </example>
/// <remarks>The description is the attribute's text when given, else the method's <c>&lt;summary&gt;</c>; <c>&lt;remarks&gt;</c>,
/// <c>&lt;param&gt;</c> and <c>&lt;returns&gt;</c> are added, and <c>&lt;example&gt;</c> lines such as <c>Slugify("A b") == "a-b"</c>
/// are examples the code must reproduce.</remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class AnyDefAttribute : Attribute
{
    /// <summary>Declares the function with the description from the method's documentation comment.</summary>
    public AnyDefAttribute()
    {
    }

    /// <summary>Declares the function with this description (the documentation's <c>&lt;summary&gt;</c> is then not used).</summary>
    /// <param name="description">What the function does; the docstring the model implements.</param>
    public AnyDefAttribute(string description) => Description = description;

    /// <summary>What the function does, when given here rather than in the documentation comment.</summary>
    public string? Description { get; }

    /// <summary>The Python function name.</summary>
    /// <value>The default is null: the method's name in snake_case without the <c>Async</c> of an asynchronous method (<c>CountWordsAsync</c> becomes <c>count_words</c>).</value>
    public string? Name { get; init; }

    /// <summary>Python packages the code may import, such as <c>Packages = ["regex"]</c>; the prompt names them with their versions.</summary>
    /// <value>The default is null: the standard library only. Packages join the spec, so declaring them regenerates the code.</value>
    /// <remarks>They are fetched, verified and cached by the library and only read by the sandbox (see <see cref="SandboxOptions.PackageIndex"/>).</remarks>
    public string[]? Packages { get; init; }
}
