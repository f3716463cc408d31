using System.Diagnostics.CodeAnalysis;
using AnyDefNet.Internal;

namespace AnyDefNet;

/// <summary>
/// The entry point: declare a function by its name, its description and its types; a language model writes it in
/// Python once, and every call runs that code in the sandbox.
/// </summary>
/// <example>
/// <code>
/// record SlugArgs(string Text);
/// var slugify = AnyDef.Define&lt;SlugArgs, string&gt;("slugify", "Lower-case the text and join its words with hyphens.");
/// Console.WriteLine(slugify(new SlugArgs("Hello, World!"))); // hello-world
/// </code>
/// </example>
public static class AnyDef
{
    private static volatile AnyDefOptions? s_configured;

    /// <summary>The options that functions declared without options run with: those given to <see cref="Configure"/>, else
    /// <see cref="AnyDefOptions.Default"/>.</summary>
    public static AnyDefOptions CurrentOptions => s_configured ?? AnyDefOptions.Default;

    /// <summary>What the application gave <see cref="Configure"/>, or null before that: [AnyDef] methods then use their attributes.</summary>
    internal static AnyDefOptions? ConfiguredOptions => s_configured;

    /// <summary>Sets the options of every function declared without options, from its next call on, including functions
    /// declared before this call.</summary>
    /// <param name="options">The application's settings; <see cref="AnyDefOptions.Default"/> restores the defaults (and lets
    /// <see cref="AnyDefDefaultsAttribute"/> settings apply to <see cref="AnyDefAttribute"/> methods again).</param>
    /// <exception cref="ArgumentException">An option is out of range (every problem is listed).</exception>
    /// <remarks>Functions given their own options keep them. A hosted application calls this through its host's start.</remarks>
    public static void Configure(AnyDefOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        s_configured = ReferenceEquals(options, AnyDefOptions.Default) ? null : options;
    }

    /// <summary>Declares a function and returns it as an object with sync, async and batch calls.</summary>
    /// <param name="name">The Python function name (letters, digits, underscores).</param>
    /// <param name="description">What the function does; the docstring the model implements.</param>
    /// <param name="options">Settings; when null, <see cref="CurrentOptions"/> at each call (see <see cref="Configure"/>).</param>
    /// <param name="examples">Inputs with their expected results: generated code must reproduce them before it is used or
    /// stored (doctests in the description count too). They are part of the spec, so changing them regenerates the code.</param>
    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    [RequiresDynamicCode(Json.ReflectionMessage)]
    public static AnyDefFunction<TArgs, TResult> Function<TArgs, TResult>(string name, string description, AnyDefOptions? options = null,
        IEnumerable<(TArgs Args, TResult Expected)>? examples = null) =>
        new(name, description, options, examples);

    /// <summary>Declares a function and returns a synchronous delegate; the code is resolved on the first call.</summary>
    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    [RequiresDynamicCode(Json.ReflectionMessage)]
    public static Func<TArgs, TResult> Define<TArgs, TResult>(string name, string description, AnyDefOptions? options = null,
        IEnumerable<(TArgs Args, TResult Expected)>? examples = null) =>
        Function(name, description, options, examples).Invoke;

    /// <summary>Declares a function and returns an asynchronous delegate; the code is resolved on the first call.</summary>
    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    [RequiresDynamicCode(Json.ReflectionMessage)]
    public static Func<TArgs, CancellationToken, Task<TResult>> DefineAsync<TArgs, TResult>(string name, string description, AnyDefOptions? options = null,
        IEnumerable<(TArgs Args, TResult Expected)>? examples = null) =>
        Function(name, description, options, examples).InvokeAsync;

    /// <summary>Declares a function by a Python signature line and a docstring; it takes and returns JSON.</summary>
    /// <param name="signature">For example <c>def slugify(text: str, max_len: int = 40) -> str</c>.</param>
    /// <param name="docstring">What the function does; doctest examples in it are checked.</param>
    /// <param name="options">Settings; when null, <see cref="CurrentOptions"/> at each call (see <see cref="Configure"/>).</param>
    public static AnyDefDynamicFunction FromSignature(string signature, string docstring, AnyDefOptions? options = null) =>
        new(FunctionSpec.FromSignature(signature, docstring), options);

    /// <summary>Declares a function and runs it once.</summary>
    [RequiresUnreferencedCode(Json.ReflectionMessage)]
    [RequiresDynamicCode(Json.ReflectionMessage)]
    public static Task<TResult> RunAsync<TArgs, TResult>(string name, string description, TArgs args, AnyDefOptions? options = null,
        CancellationToken cancellationToken = default) =>
        Function<TArgs, TResult>(name, description, options).InvokeAsync(args, cancellationToken);
}
