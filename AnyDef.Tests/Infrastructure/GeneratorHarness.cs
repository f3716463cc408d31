using System.Collections.Immutable;
using AnyDefNet.Generators;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AnyDefNet.Tests.Infrastructure;

/// <summary>Compiles C# source against the AnyDef library and runs the real generator and analyzer on it, as the compiler does.</summary>
public static class GeneratorHarness
{
    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(() =>
    [
        .. ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Where(p => Path.GetFileName(p).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(p) is "mscorlib.dll" or "netstandard.dll")
            .Select(p => MetadataReference.CreateFromFile(p)),
        MetadataReference.CreateFromFile(typeof(AnyDef).Assembly.Location),
    ]);

    public static CSharpParseOptions ParseOptions(DocumentationMode mode = DocumentationMode.None) =>
        new(LanguageVersion.Latest, mode);

    public static CSharpCompilation Compile(string source, DocumentationMode mode = DocumentationMode.None) =>
        CSharpCompilation.Create("UserApp",
            [CSharpSyntaxTree.ParseText(source, ParseOptions(mode), path: "UserApp.cs")],
            References.Value,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    public static GeneratorDriver Driver(CSharpParseOptions? options = null) =>
        CSharpGeneratorDriver.Create([new AnyDefGenerator().AsSourceGenerator()], parseOptions: options ?? ParseOptions(),
            driverOptions: new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));

    /// <summary>Runs the generator; returns the compilation with the generated files and those files by name.</summary>
    public static (Compilation Output, IReadOnlyDictionary<string, string> Files) Generate(string source, DocumentationMode mode = DocumentationMode.None)
    {
        var compilation = Compile(source, mode);
        var driver = Driver(ParseOptions(mode)).RunGeneratorsAndUpdateCompilation(compilation, out var output, out _);
        var files = driver.GetRunResult().GeneratedTrees.ToDictionary(t => Path.GetFileName(t.FilePath), t => t.ToString());
        return (output, files);
    }

    /// <summary>The analyzer's diagnostics on the source plus the generated code.</summary>
    public static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source)
    {
        var (output, _) = Generate(source);
        return await output.WithAnalyzers([new AnyDefAnalyzer()]).GetAnalyzerDiagnosticsAsync();
    }

    public static IEnumerable<Diagnostic> Errors(Compilation compilation) =>
        compilation.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error);
}
