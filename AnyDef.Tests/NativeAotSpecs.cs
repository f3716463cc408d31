using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using AnyDefNet.Generated;
using AnyDefNet.Generators;
using AnyDefNet.Internal;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace AnyDefNet.Tests;

/// <summary>Trimming and Native AOT: [AnyDef] methods serialize through metadata written at compile time, not reflection.</summary>
public sealed class NativeAotSpecs
{
    private const string Declared = """
        using System;
        using System.Collections.Generic;
        using System.Text.Json;
        using System.Text.Json.Serialization;
        using System.Text.Json.Serialization.Metadata;
        using System.Threading;
        using System.Threading.Tasks;
        using AnyDefNet;

        [assembly: AnyDefDefaults(JsonContext = typeof(App.AppJson))]

        namespace App;

        public enum Unit { Celsius, Fahrenheit }

        public sealed record Reading(string Place, double Degrees, Unit Unit, IReadOnlyList<string> Tags);

        public static partial class Weather
        {
            /// <summary>Convert the readings to Celsius, warmest first; keep at most limit of them when a limit is given.</summary>
            [AnyDef]
            public static partial Task<List<Reading>> WarmestFirstAsync(Reading[] readings, int? limit, CancellationToken cancellationToken = default);

            /// <summary>Count how often each word occurs in the text.</summary>
            [AnyDef]
            public static partial Dictionary<string, long> CountWords(string text);
        }

        // Stands in for a context the System.Text.Json source generator completes.
        public sealed class AppJson : JsonSerializerContext
        {
            public AppJson() : base(null) { }
            public static AppJson Default { get; } = new();
            protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
            public override JsonTypeInfo? GetTypeInfo(Type type) => null;
        }
        """;

    [Fact]
    public void Generated_code_builds_the_json_metadata_of_each_method_and_never_calls_the_reflection_serializer()
    {
        // Act
        var (output, files) = GeneratorHarness.Generate(Declared);

        // Assert
        GeneratorHarness.Errors(output).Should().BeEmpty();
        var warmest = files["App.Weather.WarmestFirstAsync.g.cs"];
        warmest.Should().Contain("jsonTypes: static (type, options) =>")
            .And.Contain("if (type == typeof(global::App.Reading[])) return global::AnyDefNet.Generated.DeclaredJson.Array<global::App.Reading>(options);")
            .And.Contain("if (type == typeof(int?)) return global::AnyDefNet.Generated.DeclaredJson.Nullable<int>(options);")
            .And.Contain("if (type == typeof(global::System.Collections.Generic.List<global::App.Reading>)) return global::AnyDefNet.Generated.DeclaredJson.List<global::App.Reading>(options);")
            // Inside the record: its enum (written by name) and its list.
            .And.Contain("if (type == typeof(global::App.Unit)) return global::AnyDefNet.Generated.DeclaredJson.Enum<global::App.Unit>(options);")
            .And.Contain("global::AnyDefNet.Generated.DeclaredJson.Sequence<global::System.Collections.Generic.IReadOnlyList<string>, string>(options);")
            .And.Contain("jsonContext: global::App.AppJson.Default,");
        files["App.Weather.CountWords.g.cs"].Should()
            .Contain("if (type == typeof(global::System.Collections.Generic.Dictionary<string, long>)) return global::AnyDefNet.Generated.DeclaredJson.Dictionary<long>(options);");
        files.Values.Should().AllSatisfy(code => code.Should().NotContain("JsonSerializer.").And.NotContain("DefaultJsonTypeInfoResolver"));
    }

    [Fact]
    public void The_metadata_the_generator_writes_round_trips_collections_nullable_values_and_enums_with_no_reflection_resolver()
    {
        // Arrange: the generator's real output, compiled and loaded; its options are built as in a Native AOT app, where
        // reflection-based serialization is off, so they know only what the generated code and the scalar metadata provide
        const string source = """
            using System;
            using System.Collections.Generic;
            using AnyDefNet;

            namespace App;

            public static partial class Calendar
            {
                /// <summary>Group the days of each week and count the numbers.</summary>
                [AnyDef]
                public static partial Dictionary<string, List<DayOfWeek?>> Weeks(Dictionary<string, List<DayOfWeek?>> weeks, IReadOnlyList<long> numbers);
            }
            """;
        var function = (DeclaredFunction<Dictionary<string, List<DayOfWeek?>>>)DeclaredFunction.FindAll(Load(source)).Single();
        var options = Json.ForDeclared(function.JsonTypes, function.JsonContext, allowReflection: false);
        var value = new Dictionary<string, List<DayOfWeek?>> { ["week"] = [DayOfWeek.Monday, null], ["none"] = [] };

        // Act
        var json = JsonSerializer.Serialize(value, Json.TypeInfo<Dictionary<string, List<DayOfWeek?>>>(options));
        var back = JsonSerializer.Deserialize(json, Json.TypeInfo<Dictionary<string, List<DayOfWeek?>>>(options));
        var numbers = JsonSerializer.Serialize(new[] { 1L, 2L }, Json.TypeInfo<IReadOnlyList<long>>(options));
        var unknown = () => options.GetTypeInfo(typeof(Uri));

        // Assert
        function.JsonTypes.Should().NotBeNull("the generator wrote the metadata of the method's types");
        json.Should().Be("""{"week":["Monday",null],"none":[]}""");
        back.Should().BeEquivalentTo(value);
        numbers.Should().Be("[1,2]");
        unknown.Should().Throw<NotSupportedException>("a type nobody described has no metadata once reflection is off");
    }

    [Fact]
    public void A_type_without_metadata_fails_with_a_message_that_says_how_to_provide_it()
    {
        // Arrange
        var options = new JsonSerializerOptions { TypeInfoResolver = ScalarJson.Resolver };
        options.MakeReadOnly();

        // Act
        var act = () => Json.TypeInfo<Uri>(options);

        // Assert
        act.Should().Throw<NotSupportedException>().WithMessage("*[JsonSerializable(typeof(Uri))]*[AnyDefDefaults(JsonContext = typeof(...))]*");
    }

    [Fact]
    public async Task A_trimmed_app_is_warned_of_each_record_no_json_context_describes()
    {
        // Arrange: Reading is described by the named context, Station (returned by the second method) is not
        var source = Declared.Replace("public static partial Dictionary<string, long> CountWords(string text);",
            "public static partial Station Nearest(Reading reading);", StringComparison.Ordinal) + """

            public sealed record Station(string Name, Reading Last);

            [JsonSerializable(typeof(List<Reading>))]
            public sealed class ReadingJson : JsonSerializerContext
            {
                public ReadingJson() : base(null) { }
                public static ReadingJson Default { get; } = new();
                protected override JsonSerializerOptions? GeneratedSerializerOptions => null;
                public override JsonTypeInfo? GetTypeInfo(Type type) => null;
            }
            """;
        source = source.Replace("[assembly: AnyDefDefaults(JsonContext = typeof(App.AppJson))]",
            "[assembly: AnyDefDefaults(JsonContext = typeof(App.ReadingJson))]", StringComparison.Ordinal);

        // Act
        var trimmed = await AnalyzeAsync(source, ("build_property.EnableTrimAnalyzer", "true"));
        var untrimmed = await AnalyzeAsync(source);

        // Assert
        trimmed.Where(d => d.Id == "ANYDEF011").Select(d => d.GetMessage()).Should().ContainSingle()
            .Which.Should().StartWith("'App.Station', used by 'Nearest', has no source-generated JSON metadata")
            .And.Contain("[JsonSerializable(typeof(App.Station))]");
        untrimmed.Should().NotContain(d => d.Id == "ANYDEF011", "an app that keeps reflection reads records without a context");
    }

    private static async Task<ImmutableArray<Diagnostic>> AnalyzeAsync(string source, params (string Key, string Value)[] buildProperties)
    {
        var (output, _) = GeneratorHarness.Generate(source);
        var options = new AnalyzerOptions([], new BuildProperties(buildProperties.ToDictionary(p => p.Key, p => p.Value)));
        return await output.WithAnalyzers([new AnyDefAnalyzer()], options).GetAnalyzerDiagnosticsAsync();
    }

    private sealed class BuildProperties(Dictionary<string, string> values) : AnalyzerConfigOptionsProvider
    {
        public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(values);

        public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => new Options([]);

        public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) => new Options([]);

        private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
        {
            public override bool TryGetValue(string key, out string value) => values.TryGetValue(key, out value!);
        }
    }

    // Compiles the source with the real generator's output and loads it into this process.
    private static System.Reflection.Assembly Load(string source)
    {
        var (output, _) = GeneratorHarness.Generate(source);
        using var image = new MemoryStream();
        var emitted = output.Emit(image);
        emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Should().BeEmpty();
        return System.Reflection.Assembly.Load(image.ToArray());
    }
}
