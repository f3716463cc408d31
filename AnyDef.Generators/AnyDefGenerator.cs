using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace AnyDefNet.Generators;

/// <summary>
/// Writes the body of every <c>[AnyDef]</c> partial method. Problems are reported by <see cref="AnyDefAnalyzer"/>, so
/// the pipeline carries only value-equal models and an edit elsewhere costs no emitting.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class AnyDefGenerator : IIncrementalGenerator
{
    /// <summary>The name of the pipeline step that turns methods into models (for incremental-build tests).</summary>
    public const string ModelStep = "AnyDefModels";

    /// <inheritdoc />
    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var models = context.SyntaxProvider.ForAttributeWithMetadataName(
                Parser.AttributeName,
                static (node, _) => node is MethodDeclarationSyntax,
                static (ctx, ct) => Parser.Parse((IMethodSymbol)ctx.TargetSymbol, (MethodDeclarationSyntax)ctx.TargetNode, ctx.Attributes[0], ct).Model)
            .Where(static m => m is not null)
            .WithTrackingName(ModelStep);

        context.RegisterSourceOutput(models, static (spc, model) => spc.AddSource(model!.HintName, SourceText.From(Emitter.Emit(model), System.Text.Encoding.UTF8)));
    }
}
