using AnyDefNet.Generated;
using AnyDefNet.Tests.Infrastructure;
using CliWrap.Buffered;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// The build-time workflow through the real anydef tool: <c>anydef generate</c> fills the store for every [AnyDef]
/// function of a built assembly, <c>anydef check</c> gates CI; each exit code as documented.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class BuildWorkflowSpecs : FakeModelSpecs
{
    private static readonly string Functions = Path.GetFullPath(typeof(BuildWorkflowSpecs).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "AnyDefTestFunctions").Value!);

    private static readonly IReadOnlyList<DeclaredFunction> Declared = DeclaredFunction.FindAll(typeof(Functions.Text).Assembly);

    private readonly string _store = TestEnvironment.TempDir();

    private Dictionary<string, string?> Model() => new() { ["OPENAI_BASE_URL"] = Server.BaseUrl.ToString(), ["OPENAI_API_KEY"] = "test-key", ["ANYDEF_MODEL"] = "fake-model" };

    private Task<BufferedCommandResult> Run(params string[] args) => AnyDefCli.RunAsync([.. args, "--assembly", Functions, "--store", _store], Model());

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Generate_stores_every_declared_function_unreviewed_and_check_passes_only_once_they_are_reviewed()
    {
        // Arrange
        Server.Always(request => FakeReply.Code(DeclaredFunctionSpecs.CodeFor(request)));

        // Act
        var generate = await Run("generate");
        var again = await Run("generate");
        var check = await Run("check");
        var allowed = await Run("check", "--allow-unreviewed");

        // Assert
        generate.ExitCode.Should().Be(0, generate.StandardError);
        Lines(generate.StandardOutput).Should().HaveCount(Declared.Count).And.OnlyContain(l => l.StartsWith("generated  ", StringComparison.Ordinal));
        generate.StandardError.Should().Contain($"{Declared.Count} generated, 0 already stored, 0 failed");
        var files = Directory.GetFiles(_store, "*.py");
        files.Should().HaveCount(Declared.Count).And.OnlyContain(f => File.ReadAllText(f).Contains("# reviewed: false", StringComparison.Ordinal));

        again.ExitCode.Should().Be(0);
        again.StandardError.Should().Contain($"0 generated, {Declared.Count} already stored, 0 failed");
        Server.RequestCount.Should().Be(Declared.Count, "the second run found everything stored");

        check.ExitCode.Should().Be(6);
        Lines(check.StandardOutput).Should().HaveCount(Declared.Count).And.OnlyContain(l => l.StartsWith("unreviewed  ", StringComparison.Ordinal));
        allowed.ExitCode.Should().Be(0, allowed.StandardOutput);
        allowed.StandardOutput.Should().BeEmpty();
    }

    [Fact]
    public async Task Check_lists_missing_failing_and_orphaned_code_one_line_each()
    {
        // Arrange: reviewed code for every function, then one deleted, one broken, and one file nobody declares
        var store = new DirectoryCodeStore(_store);
        foreach (var function in Declared)
        {
            var code = DeclaredFunctionSpecs.CodeFor(new System.Text.Json.Nodes.JsonObject
            {
                ["messages"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["content"] = function.Spec.Signature }),
            });
            var path = await store.WriteAsync(function.Spec, code + "\n", "hand-written for the test");
            await File.WriteAllTextAsync(path, (await File.ReadAllTextAsync(path)).Replace("# reviewed: false", "# reviewed: true", StringComparison.Ordinal));
        }

        var countWords = Declared.Single(f => f.Spec.Name == "count_words");
        var increment = Declared.Single(f => f.Spec.Name == "increment");
        File.Delete(store.PathFor(countWords.Spec));
        var incrementFile = store.PathFor(increment.Spec);
        await File.WriteAllTextAsync(incrementFile, (await File.ReadAllTextAsync(incrementFile)).Replace("n + 1", "n + 2", StringComparison.Ordinal));
        await File.WriteAllTextAsync(Path.Combine(_store, "retired.0123456789ab.py"), "# anydef: retired\n# spec: 0123456789ab\n\ndef retired():\n    return 1\n");

        // Act
        var check = await Run("check");

        // Assert
        check.ExitCode.Should().Be(6);
        Lines(check.StandardOutput).Should().BeEquivalentTo(
            $"missing     count_words (Text): no stored code for spec {countWords.Spec.Hash[..12]} (count_words.{countWords.Spec.Hash[..12]}.py); run 'anydef generate'",
            $"failing     increment (Counter): increment.{increment.Spec.Hash[..12]}.py: Wrong result: increment(41) returned 43, expected 42.",
            "orphaned    retired.0123456789ab.py: no [AnyDef] declaration uses it (delete it unless a function declared at run time does)");
        check.StandardError.Should().Contain("1 missing, 0 unreviewed, 1 failing; 1 orphaned file(s)");
        Server.RequestCount.Should().Be(0, "check never asks a model");
    }

    [Fact]
    public async Task Check_builds_the_project_so_a_spec_edited_since_the_last_build_fails_the_gate()
    {
        // Arrange: a fresh application that references AnyDef as a user's project does, generated and passing the gate
        Server.Always(FakeReply.Code("def square(x):\n    return x * x"));
        var repository = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(AnyDefCli.Dll)!, "..", "..", "..", ".."));
        var app = TestEnvironment.TempDir();
        var project = Path.Combine(app, "FreshApp.csproj");
        await File.WriteAllTextAsync(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>net10.0</TargetFramework>
                <Nullable>enable</Nullable>
                <ImplicitUsings>enable</ImplicitUsings>
              </PropertyGroup>
              <ItemGroup>
                <ProjectReference Include="{repository}/AnyDef/AnyDef.csproj" />
                <ProjectReference Include="{repository}/AnyDef.Generators/AnyDef.Generators.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
              </ItemGroup>
              <Import Project="{repository}/AnyDef/build/AnyDef.targets" />
            </Project>
            """);
        var source = Path.Combine(app, "Maths.cs");
        const string Declaration = """
            using AnyDefNet;

            namespace FreshApp;

            public static partial class Maths
            {
                /// <summary>Square the number.</summary>
                [AnyDef]
                public static partial int Square(int x);
            }
            """;
        await File.WriteAllTextAsync(source, Declaration);
        var generate = await AnyDefCli.RunAsync(["generate", "--project", project], Model(), app);
        var passing = await AnyDefCli.RunAsync(["check", "--project", project, "--allow-unreviewed"], Model(), app);

        // Act: the spec changes, and nothing else is built before the gate runs
        await File.WriteAllTextAsync(source, Declaration.Replace("Square the number.", "Cube the number.", StringComparison.Ordinal));
        var check = await AnyDefCli.RunAsync(["check", "--project", project, "--allow-unreviewed"], Model(), app);

        // Assert
        generate.ExitCode.Should().Be(0, generate.StandardError);
        passing.ExitCode.Should().Be(0, passing.StandardOutput + passing.StandardError);
        check.ExitCode.Should().Be(6, "the stored code was written for the old spec: " + check.StandardOutput + check.StandardError);
        Lines(check.StandardOutput).Should().Contain(l => l.StartsWith("missing     square (Maths)", StringComparison.Ordinal))
            .And.Contain(l => l.StartsWith("orphaned    square.", StringComparison.Ordinal), "the old spec's file is no longer used");
        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task Generate_exits_2_and_says_why_when_the_model_gives_no_usable_code_and_stores_nothing()
    {
        Server.Always(FakeReply.Text("I cannot help with that."));

        var generate = await Run("generate");

        generate.ExitCode.Should().Be(2);
        Lines(generate.StandardOutput).Should().HaveCount(Declared.Count).And.OnlyContain(l => l.StartsWith("failed     ", StringComparison.Ordinal) && l.Contains("gave no usable code", StringComparison.Ordinal));
        generate.StandardError.Should().Contain($"0 generated, 0 already stored, {Declared.Count} failed");
        Directory.GetFiles(_store, "*.py").Should().BeEmpty();
    }

    [Fact]
    public async Task Generate_and_check_exit_1_with_advice_when_there_is_no_project_to_read()
    {
        var empty = TestEnvironment.TempDir();

        var generate = await AnyDefCli.RunAsync(["generate"], workingDirectory: empty);
        var check = await AnyDefCli.RunAsync(["check", "--assembly", Path.Combine(empty, "missing.dll")], workingDirectory: empty);

        generate.ExitCode.Should().Be(1);
        generate.StandardError.Should().Be("error: No .csproj in the current folder: pass --project PATH.csproj or --assembly PATH.dll.\n");
        check.ExitCode.Should().Be(1);
        check.StandardError.Should().Contain("does not exist");
    }
}
