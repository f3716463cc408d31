using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AnyDefNet.Generators;

/// <summary>Reports what is wrong with an <c>[AnyDef]</c> method (ANYDEF001...), and what to write instead.</summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class AnyDefAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc />
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.MethodNotPartial, DiagnosticDescriptors.TypeNotPartial, DiagnosticDescriptors.UnsupportedType,
        DiagnosticDescriptors.ByReferenceParameter, DiagnosticDescriptors.Generic, DiagnosticDescriptors.NoDescription,
        DiagnosticDescriptors.BadExample, DiagnosticDescriptors.NoCancellation, DiagnosticDescriptors.NoResult, DiagnosticDescriptors.InvalidName,
        DiagnosticDescriptors.NoJsonMetadata);

    /// <inheritdoc />
    public override void Initialize(AnalysisContext context)
    {
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.EnableConcurrentExecution();
        context.RegisterCompilationStartAction(start =>
        {
            var attributeType = start.Compilation.GetTypeByMetadataName(Parser.AttributeName);
            if (attributeType is null) return;
            var options = start.Options.AnalyzerConfigOptionsProvider.GlobalOptions;
            var trimmed = IsTrue(options, "build_property.EnableTrimAnalyzer") || IsTrue(options, "build_property.EnableAotAnalyzer") ||
                          IsTrue(options, "build_property.PublishAot") || IsTrue(options, "build_property.PublishTrimmed");
            start.RegisterSymbolAction(symbolContext =>
            {
                var method = (IMethodSymbol)symbolContext.Symbol;
                var attribute = method.GetAttributes().FirstOrDefault(a => SymbolEqualityComparer.Default.Equals(a.AttributeClass, attributeType));
                if (attribute is null) return;
                foreach (var reference in method.DeclaringSyntaxReferences)
                {
                    if (reference.GetSyntax(symbolContext.CancellationToken) is not MethodDeclarationSyntax syntax) continue;
                    if (!syntax.AttributeLists.SelectMany(l => l.Attributes).Any()) continue;
                    foreach (var problem in Parser.Parse(method, syntax, attribute, symbolContext.CancellationToken).Problems)
                    {
                        symbolContext.ReportDiagnostic(problem.ToDiagnostic());
                    }

                    if (trimmed)
                    {
                        foreach (var record in Parser.RecordsWithoutMetadata(method))
                        {
                            symbolContext.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NoJsonMetadata, syntax.Identifier.GetLocation(), record, method.Name));
                        }
                    }

                    return;
                }
            }, SymbolKind.Method);
        });
    }

    private static bool IsTrue(AnalyzerConfigOptions options, string key) =>
        options.TryGetValue(key, out var value) && string.Equals(value, "true", System.StringComparison.OrdinalIgnoreCase);
}
