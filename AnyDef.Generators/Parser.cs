using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace AnyDefNet.Generators;

/// <summary>A problem the parser found, kept as data: the analyzer reports it, the generator only needs to know it is there.</summary>
internal sealed record Problem(DiagnosticDescriptor Descriptor, Location? Location, object?[] Arguments)
{
    public Diagnostic ToDiagnostic() => Diagnostic.Create(Descriptor, Location, Arguments);
}

/// <summary>
/// Turns an [AnyDef] method into a <see cref="FunctionModel"/>: the Python name, the spec's parameters, hints and type
/// definitions, the description from the attribute or the documentation comment, and the examples.
/// </summary>
internal static class Parser
{
    public const string AttributeName = "AnyDefNet.AnyDefAttribute";

    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .AddMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    /// <summary>Parses one method; the model is null when the generator can write nothing for it (a body would not compile).</summary>
    public static (FunctionModel? Model, List<Problem> Problems) Parse(IMethodSymbol method, MethodDeclarationSyntax syntax, AttributeData attribute, CancellationToken cancellationToken)
    {
        var problems = new List<Problem>();
        var location = syntax.Identifier.GetLocation();
        var displayName = method.Name;

        var isPartialDefinition = syntax.Modifiers.Any(SyntaxKind.PartialKeyword) && syntax.Body is null && syntax.ExpressionBody is null;
        if (!isPartialDefinition) problems.Add(new Problem(DiagnosticDescriptors.MethodNotPartial, location, [displayName]));

        var containers = new List<ContainingType>();
        var typesArePartial = true;
        var generic = method.IsGenericMethod;
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (type.IsGenericType) generic = true;
            var declaration = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>().FirstOrDefault();
            if (declaration is null || !type.DeclaringSyntaxReferences.Any(r => r.GetSyntax(cancellationToken) is TypeDeclarationSyntax t && t.Modifiers.Any(SyntaxKind.PartialKeyword)))
            {
                typesArePartial = false;
                problems.Add(new Problem(DiagnosticDescriptors.TypeNotPartial, location, [type.Name, displayName]));
                continue;
            }

            containers.Insert(0, new ContainingType(Keyword(declaration), type.Name));
        }

        if (generic) problems.Add(new Problem(DiagnosticDescriptors.Generic, location, [displayName]));

        var (kind, result) = Result(method.ReturnType);
        var baseName = kind != ResultKind.Value && method.Name.Length > 5 && method.Name.EndsWith("Async", System.StringComparison.Ordinal)
            ? method.Name.Substring(0, method.Name.Length - 5)
            : method.Name;
        var name = NamedArgument(attribute, "Name") ?? PythonNaming.Snake(baseName);
        if (!PythonNaming.IsIdentifier(name)) problems.Add(new Problem(DiagnosticDescriptors.InvalidName, location, [name]));

        if (result is null) problems.Add(new Problem(DiagnosticDescriptors.NoResult, syntax.ReturnType.GetLocation(), [displayName]));

        var mapper = new PythonTypeMapper();
        var json = new JsonMetadata();
        var doc = DocComment.Read(syntax);
        var parameters = new List<ParameterModel>();
        foreach (var p in method.Parameters)
        {
            var prefix = p.IsThis ? "this " : "";
            if (p.RefKind != RefKind.None || p.IsParams)
            {
                var keyword = p.IsParams ? "params" : p.RefKind switch { RefKind.Ref => "ref", RefKind.Out => "out", _ => "in" };
                problems.Add(new Problem(DiagnosticDescriptors.ByReferenceParameter, p.Locations.FirstOrDefault() ?? location, [p.Name, displayName, keyword]));
            }

            var type = p.Type.ToDisplayString(TypeFormat);
            if (IsCancellationToken(p.Type))
            {
                parameters.Add(new ParameterModel(Escape(p.Name), type, prefix, null, null, null, null));
                continue;
            }

            json.Add(p.Type);
            var hint = mapper.Hint(p.Type, true);
            ReportTypes(mapper, generic ? null : problems, $"parameter '{p.Name}'", displayName, p.Locations.FirstOrDefault() ?? location);
            parameters.Add(new ParameterModel(Escape(p.Name), type, prefix, PythonNaming.Parameter(p.Name), hint, PythonTypeMapper.FriendlyName(p.Type),
                p.HasExplicitDefaultValue ? PythonDefault(p) : null));
        }

        var returnHint = "Any";
        if (result is not null)
        {
            json.Add(result);
            returnHint = mapper.Hint(result, true);
            ReportTypes(mapper, generic ? null : problems, "result", displayName, syntax.ReturnType.GetLocation());
        }

        if (kind != ResultKind.Value && !method.Parameters.Any(p => IsCancellationToken(p.Type)))
        {
            problems.Add(new Problem(DiagnosticDescriptors.NoCancellation, location, [displayName]));
        }

        var description = Description(attribute, doc, parameters);
        if (description is null) problems.Add(new Problem(DiagnosticDescriptors.NoDescription, location, [displayName]));

        var examples = new List<ExampleModel>();
        foreach (var line in doc.ExampleLines())
        {
            if (Example(line, method, syntax) is { } example) examples.Add(example);
            else problems.Add(new Problem(DiagnosticDescriptors.BadExample, location, [line, method.Name]));
        }

        // Without a partial definition in partial, non-generic types there is nothing a generated body could complete.
        if (!isPartialDefinition || !typesArePartial || generic)
        {
            return (null, problems);
        }

        var errors = problems.Where(p => p.Descriptor.DefaultSeverity == DiagnosticSeverity.Error).ToList();
        var stub = errors.Count == 0 ? null : $"[AnyDef] {displayName} cannot run: see {errors[0].Descriptor.Id}.";
        var fieldName = "__anyDef_" + method.Name + (method.ContainingType.GetMembers(method.Name).Length > 1 ? "_" + method.Parameters.Length : "");
        var hintName = string.Join(".", containers.Select(c => c.Name)) + "." + method.Name +
                       (method.ContainingType.GetMembers(method.Name).Length > 1 ? "_" + method.Parameters.Length : "") + ".g.cs";
        var ns = method.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : "";
        if (ns.Length > 0) hintName = ns + "." + hintName;

        var model = new FunctionModel(
            hintName,
            ns,
            containers.ToEquatableArray(),
            syntax.Modifiers.ToString(),
            method.ReturnType.ToDisplayString(TypeFormat),
            Escape(method.Name),
            fieldName,
            name,
            description ?? "",
            parameters.ToEquatableArray(),
            kind,
            result?.ToDisplayString(TypeFormat) ?? "object",
            result is not null && AllowsNull(result),
            returnHint,
            mapper.Definitions.ToEquatableArray(),
            stub is null ? examples.ToEquatableArray() : default,
            Packages(attribute).ToEquatableArray(),
            json.Types.ToEquatableArray(),
            JsonContext(method),
            stub);
        return (model, problems);
    }

    // A generic method's type parameters are reported once, as ANYDEF005, not as unmapped types.
    private static void ReportTypes(PythonTypeMapper mapper, List<Problem>? problems, string what, string method, Location location)
    {
        foreach (var why in mapper.Problems) problems?.Add(new Problem(DiagnosticDescriptors.UnsupportedType, location, [what, method, why]));
        mapper.Problems.Clear();
    }

    private static string Keyword(TypeDeclarationSyntax declaration)
    {
        var refPrefix = declaration.Modifiers.Any(SyntaxKind.RefKeyword) ? "ref " : "";
        return declaration switch
        {
            RecordDeclarationSyntax r when r.ClassOrStructKeyword.IsKind(SyntaxKind.StructKeyword) => refPrefix + "partial record struct",
            RecordDeclarationSyntax => "partial record",
            StructDeclarationSyntax => refPrefix + "partial struct",
            InterfaceDeclarationSyntax => "partial interface",
            _ => "partial class",
        };
    }

    private static (ResultKind Kind, ITypeSymbol? Result) Result(ITypeSymbol type)
    {
        if (type.SpecialType == SpecialType.System_Void) return (ResultKind.Value, null);
        if (type is INamedTypeSymbol named && named.ContainingNamespace?.ToDisplayString() == "System.Threading.Tasks")
        {
            if (named.Name is "Task" or "ValueTask")
            {
                var kind = named.Name == "Task" ? ResultKind.Task : ResultKind.ValueTask;
                return named.TypeArguments.Length == 1 ? (kind, named.TypeArguments[0]) : (kind, null);
            }
        }

        return (ResultKind.Value, type);
    }

    private static bool AllowsNull(ITypeSymbol result) =>
        result.NullableAnnotation == NullableAnnotation.Annotated ||
        result.SpecialType == SpecialType.System_Object ||
        result.ToDisplayString() == "System.Text.Json.JsonElement";

    private static bool IsCancellationToken(ITypeSymbol type) => type.ToDisplayString() == "System.Threading.CancellationToken";

    private static string Escape(string identifier) => SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

    private static IEnumerable<string> Packages(AttributeData attribute)
    {
        var packages = attribute.NamedArguments.FirstOrDefault(a => a.Key == "Packages").Value;
        return packages.Kind == TypedConstantKind.Array ? packages.Values.Select(v => v.Value as string).OfType<string>() : [];
    }

    /// <summary>The records a method's parameters and result use that the JsonSerializerContext it names does not describe
    /// (all of them when it names none), by their C# names.</summary>
    public static IEnumerable<string> RecordsWithoutMetadata(IMethodSymbol method)
    {
        var used = new JsonMetadata();
        foreach (var p in method.Parameters.Where(p => !IsCancellationToken(p.Type))) used.Add(p.Type);
        if (Result(method.ReturnType).Result is { } result) used.Add(result);
        if (used.Records.Count == 0) return [];

        var described = new JsonMetadata();
        if (ContextType(method) is { } context)
        {
            foreach (var root in context.GetAttributes()
                         .Where(a => a.AttributeClass?.ToDisplayString() == "System.Text.Json.Serialization.JsonSerializableAttribute")
                         .Select(a => a.ConstructorArguments.Length > 0 ? a.ConstructorArguments[0].Value as ITypeSymbol : null)
                         .OfType<ITypeSymbol>())
            {
                described.Add(root);
            }
        }

        return used.Records.Except(described.Records).Select(r => r.Replace("global::", ""));
    }

    /// <summary>The JsonSerializerContext named by the nearest [AnyDefDefaults(JsonContext = ...)]: the method's class, an outer
    /// class, then the assembly.</summary>
    private static string? JsonContext(IMethodSymbol method) => ContextType(method)?.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    private static ITypeSymbol? ContextType(IMethodSymbol method)
    {
        for (var type = method.ContainingType; type is not null; type = type.ContainingType)
        {
            if (ContextOf(type.GetAttributes()) is { } context) return context;
        }

        return ContextOf(method.ContainingAssembly.GetAttributes());
    }

    private static ITypeSymbol? ContextOf(IEnumerable<AttributeData> attributes) => attributes
        .Where(a => a.AttributeClass?.ToDisplayString() == "AnyDefNet.AnyDefDefaultsAttribute")
        .SelectMany(a => a.NamedArguments)
        .Where(a => a.Key == "JsonContext")
        .Select(a => a.Value.Value as ITypeSymbol)
        .FirstOrDefault(t => t is not null);

    private static string? NamedArgument(AttributeData attribute, string name) =>
        attribute.NamedArguments.FirstOrDefault(a => a.Key == name).Value.Value as string;

    private static string? Description(AttributeData attribute, DocComment doc, List<ParameterModel> parameters)
    {
        var lead = attribute.ConstructorArguments.Length > 0 && attribute.ConstructorArguments[0].Value is string s && s.Trim().Length > 0
            ? s.Trim()
            : doc.Summary;
        if (lead is null) return null;

        var text = new StringBuilder(lead);
        if (doc.Remarks is { } remarks) text.Append("\n\n").Append(remarks);
        var args = parameters.Where(p => p.PythonName is not null)
            .Select(p => (p.PythonName, Text: doc.Param(p.Name.TrimStart('@'))))
            .Where(p => p.Text is not null).ToList();
        if (args.Count > 0)
        {
            text.Append("\n\nArgs:");
            foreach (var (pythonName, paramText) in args) text.Append("\n    ").Append(pythonName).Append(": ").Append(paramText!.Replace("\n", "\n        "));
        }

        if (doc.Returns is { } returns) text.Append("\n\nReturns:\n    ").Append(returns.Replace("\n", "\n    "));
        return text.ToString();
    }

    private static ExampleModel? Example(string line, IMethodSymbol method, MethodDeclarationSyntax syntax)
    {
        if (SyntaxFactory.ParseExpression(line) is not BinaryExpressionSyntax { RawKind: (int)SyntaxKind.EqualsExpression } equals ||
            equals.ContainsDiagnostics ||
            equals.Left is not InvocationExpressionSyntax call ||
            Callee(call.Expression) != method.Name)
        {
            return null;
        }

        var values = new string?[method.Parameters.Length];
        var position = 0;
        foreach (var argument in call.ArgumentList.Arguments)
        {
            var index = argument.NameColon is { } named
                ? IndexOf(method, named.Name.Identifier.ValueText)
                : position++;
            if (index < 0 || index >= values.Length || values[index] is not null || !argument.RefKindKeyword.IsKind(SyntaxKind.None)) return null;
            values[index] = argument.Expression.ToString();
        }

        var arguments = new List<string>();
        for (var i = 0; i < values.Length; i++)
        {
            var p = method.Parameters[i];
            if (IsCancellationToken(p.Type)) continue;
            if (values[i] is { } value) arguments.Add(value);
            else if (syntax.ParameterList.Parameters[i].Default is { } d) arguments.Add(d.Value.ToString());
            else return null;
        }

        return new ExampleModel(arguments.ToEquatableArray(), equals.Right.ToString());
    }

    private static int IndexOf(IMethodSymbol method, string name)
    {
        for (var i = 0; i < method.Parameters.Length; i++)
        {
            if (method.Parameters[i].Name == name) return i;
        }

        return -1;
    }

    private static string? Callee(ExpressionSyntax expression) => expression switch
    {
        IdentifierNameSyntax id => id.Identifier.ValueText,
        MemberAccessExpressionSyntax member => member.Name.Identifier.ValueText,
        _ => null,
    };

    private static string? PythonDefault(IParameterSymbol p)
    {
        var value = p.ExplicitDefaultValue;
        if (p.Type.TypeKind == TypeKind.Enum && p.Type is INamedTypeSymbol e)
        {
            var member = e.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value));
            return member is null ? null : $"'{member.Name}'";
        }

        return value switch
        {
            null => "None",
            bool b => b ? "True" : "False",
            string s => StringLiteral(s),
            char c => StringLiteral(c.ToString()),
            double d => FloatLiteral(d.ToString("R", CultureInfo.InvariantCulture)),
            float f => FloatLiteral(f.ToString("R", CultureInfo.InvariantCulture)),
            decimal m => FloatLiteral(m.ToString(CultureInfo.InvariantCulture)),
            _ => System.Convert.ToString(value, CultureInfo.InvariantCulture),
        };
    }

    private static string FloatLiteral(string text) => text switch
    {
        "NaN" => "float('nan')",
        "Infinity" => "float('inf')",
        "-Infinity" => "float('-inf')",
        _ => text.IndexOfAny(['.', 'E', 'e']) >= 0 ? text : text + ".0",
    };

    private static string StringLiteral(string s)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in s)
        {
            builder.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < ' ' => $"\\x{(int)c:x2}",
                _ => c.ToString(),
            });
        }

        return builder.Append('"').ToString();
    }
}
