using Microsoft.CodeAnalysis;

namespace AnyDefNet.Generators;

/// <summary>The diagnostics of [AnyDef] methods: errors where the method could not work, warnings elsewhere.</summary>
internal static class DiagnosticDescriptors
{
    /// <summary>The README section that explains every diagnostic.</summary>
    public const string HelpLink = "https://github.com/anydef/anydef-dotnet/blob/main/README.md#diagnostics";

    private const string Category = "AnyDef";

    public static readonly DiagnosticDescriptor MethodNotPartial = Error("ANYDEF001", "An [AnyDef] method must be partial",
        "'{0}' has [AnyDef] but is not a partial method without a body: declare it 'partial' and end it with ';', such as 'public static partial string {0}(string text);'");

    public static readonly DiagnosticDescriptor TypeNotPartial = Error("ANYDEF002", "The type around an [AnyDef] method must be partial",
        "'{0}', which contains the [AnyDef] method '{1}', is not partial: add 'partial' to its declaration (and to every type around it)");

    public static readonly DiagnosticDescriptor UnsupportedType = Error("ANYDEF003", "A parameter or result type has no Python counterpart",
        "The {0} of '{1}' cannot travel to Python ({2}): use strings, numbers, booleans, dates, enums, lists, dictionaries with string keys, or records of those");

    public static readonly DiagnosticDescriptor ByReferenceParameter = Error("ANYDEF004", "An [AnyDef] parameter must be passed by value",
        "The parameter '{0}' of '{1}' is '{2}': remove '{2}' and pass it by value (arguments travel to Python as JSON, and nothing comes back through them; return a record to get several values)");

    public static readonly DiagnosticDescriptor Generic = Error("ANYDEF005", "An [AnyDef] method cannot be generic",
        "'{0}' is generic or declared in a generic type: declare one non-generic method per concrete type (the model writes code for one signature)");

    public static readonly DiagnosticDescriptor NoDescription = Error("ANYDEF006", "An [AnyDef] method needs a description",
        "'{0}' has no description: add a '/// <summary>' saying what it does, or write it in the attribute: [AnyDef(\"What it does.\")]");

    public static readonly DiagnosticDescriptor BadExample = Warning("ANYDEF007", "An example line is not a call and its result",
        "The example '{0}' of '{1}' is ignored: write one line per example in the form '{1}(arguments) == expected', such as '{1}(\"a b\") == \"a-b\"'");

    public static readonly DiagnosticDescriptor NoCancellation = Warning("ANYDEF008", "An asynchronous [AnyDef] method should take a CancellationToken",
        "'{0}' is asynchronous but takes no CancellationToken: add 'CancellationToken cancellationToken = default' as its last parameter so callers can cancel it");

    public static readonly DiagnosticDescriptor NoResult = Error("ANYDEF009", "An [AnyDef] method must return a value",
        "'{0}' returns no value: return what the function computes (T, Task<T> or ValueTask<T>)");

    public static readonly DiagnosticDescriptor InvalidName = Error("ANYDEF010", "The Python name is not valid",
        "'{0}' is not a valid Python function name (a keyword, or not letters, digits and underscores): name it in the attribute, such as [AnyDef(Name = \"{0}_\")]");

    public static readonly DiagnosticDescriptor NoJsonMetadata = Warning("ANYDEF011", "A record has no source-generated JSON metadata",
        "'{0}', used by '{1}', has no source-generated JSON metadata, which a trimmed or Native AOT app needs: add [JsonSerializable(typeof({0}))] to a partial class deriving from JsonSerializerContext, and name that class in [AnyDefDefaults(JsonContext = typeof(...))] on the assembly or the declaring class");

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true, helpLinkUri: HelpLink);

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true, helpLinkUri: HelpLink);
}
