using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.CodeAnalysis;

namespace AnyDefNet.Tests;

/// <summary>Every mistake in an [AnyDef] declaration is a compile-time diagnostic that says what to write instead.</summary>
public sealed class DiagnosticSpecs
{
    private static string Source(string members, string typeModifiers = "public static partial") => $$"""
        using System.Threading;
        using System.Threading.Tasks;
        using AnyDefNet;

        namespace App;

        {{typeModifiers}} class Functions
        {
        {{members}}
        }
        """;

    public static TheoryData<string, string, string, DiagnosticSeverity, string> Mistakes => new()
    {
        { "ANYDEF001", Source("""[AnyDef("Echo.")] public static string Echo(string text) => text;"""), "Echo", DiagnosticSeverity.Error, "declare it 'partial'" },
        { "ANYDEF002", Source("""[AnyDef("Echo.")] public static partial string Echo(string text);""", "public static"), "Functions", DiagnosticSeverity.Error, "add 'partial'" },
        { "ANYDEF003", Source("""[AnyDef("Echo.")] public static partial string Echo(System.IDisposable text);"""), "parameter 'text'", DiagnosticSeverity.Error, "use strings, numbers" },
        { "ANYDEF003", Source("""[AnyDef("Count.")] public static partial System.Collections.Generic.Dictionary<int, int> Count(string text);"""), "string keys", DiagnosticSeverity.Error, "use strings, numbers" },
        { "ANYDEF003", Source("""[AnyDef("Pair.")] public static partial (int, string) Pair(string text);"""), "a tuple has no named members", DiagnosticSeverity.Error, "use strings, numbers" },
        { "ANYDEF003", Source("""[AnyDef("Pair.")] public static partial string Pair(System.Tuple<int, string> pair);"""), "declare a record instead", DiagnosticSeverity.Error, "use strings, numbers" },
        { "ANYDEF004", Source("""[AnyDef("Echo.")] public static partial string Echo(ref string text);"""), "'ref'", DiagnosticSeverity.Error, "pass it by value" },
        { "ANYDEF004", Source("""[AnyDef("Sum.")] public static partial int Sum(params int[] numbers);"""), "'params'", DiagnosticSeverity.Error, "pass it by value" },
        { "ANYDEF005", Source("""[AnyDef("Echo.")] public static partial T Echo<T>(T value);"""), "Echo", DiagnosticSeverity.Error, "one non-generic method per concrete type" },
        { "ANYDEF006", Source("""[AnyDef] public static partial string Echo(string text);"""), "Echo", DiagnosticSeverity.Error, "add a '/// <summary>'" },
        { "ANYDEF007", Source("""
            /// <summary>Echo the text.</summary>
            /// <example><code>var echoed = Echo("a");</code></example>
            [AnyDef] public static partial string Echo(string text);
            """), "var echoed = Echo(\"a\");", DiagnosticSeverity.Warning, "in the form 'Echo(arguments) == expected'" },
        { "ANYDEF008", Source("""[AnyDef("Echo.")] public static partial Task<string> EchoAsync(string text);"""), "EchoAsync", DiagnosticSeverity.Warning, "add 'CancellationToken cancellationToken = default'" },
        { "ANYDEF009", Source("""[AnyDef("Echo.")] public static partial void Echo(string text);"""), "Echo", DiagnosticSeverity.Error, "return what the function computes" },
        { "ANYDEF009", Source("""[AnyDef("Echo.")] public static partial Task EchoAsync(string text, CancellationToken cancellationToken);"""), "EchoAsync", DiagnosticSeverity.Error, "Task<T>" },
        { "ANYDEF010", Source("""[AnyDef("Pass it on.")] public static partial int Pass(int value);"""), "'pass'", DiagnosticSeverity.Error, "[AnyDef(Name = \"pass_\")]" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public async Task A_mistake_is_reported_with_its_id_and_what_to_write_instead(string id, string source, string subject, DiagnosticSeverity severity, string advice)
    {
        // Act
        var diagnostics = await GeneratorHarness.AnalyzeAsync(source);

        // Assert
        var diagnostic = diagnostics.Should().ContainSingle(d => d.Id.StartsWith("ANYDEF", StringComparison.Ordinal)).Subject;
        diagnostic.Id.Should().Be(id);
        diagnostic.Severity.Should().Be(severity);
        diagnostic.GetMessage().Should().Contain(subject).And.Contain(advice);
        diagnostic.Descriptor.HelpLinkUri.Should().EndWith("README.md#diagnostics");
        diagnostic.Location.SourceTree!.FilePath.Should().Be("UserApp.cs", "the diagnostic points at the user's code, not at generated code");
    }

    [Fact]
    public void A_method_that_cannot_work_still_gets_a_body_so_the_only_errors_are_the_diagnostics()
    {
        var (output, files) = GeneratorHarness.Generate(Source("""[AnyDef("Echo.")] public static partial string Echo(System.IDisposable text);"""));

        GeneratorHarness.Errors(output).Should().BeEmpty();
        files.Values.Single().Should().Contain("throw new global::System.InvalidOperationException(\"[AnyDef] Echo cannot run: see ANYDEF003.\")");
    }

    [Fact]
    public async Task A_well_declared_method_gets_no_diagnostic()
    {
        var diagnostics = await GeneratorHarness.AnalyzeAsync(Source("""
            /// <summary>Echo the text.</summary>
            /// <example><code>EchoAsync("a") == "a"</code></example>
            [AnyDef] public static partial Task<string> EchoAsync(string text, CancellationToken cancellationToken = default);
            """));

        diagnostics.Should().BeEmpty();
    }
}
