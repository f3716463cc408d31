using System.Numerics;
using System.Text.Json.Nodes;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// Every mapped type with its edge values, through the real sandbox: each value crosses exactly, both ways, in a single
/// call, a batch and a stream, and Python sees the type the hint promises; a value that cannot cross is a typed error
/// naming where. The functions return <c>{"value", "type", "repr"}</c> so the Python side's view is evidence too.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class ValueConformanceSpecs : FakeModelSpecs
{
    public sealed record One<T>(T Value);

    public sealed record Seen<T>(T Value, string Type, string Repr);

    public sealed record Case(string Name);

    public enum Colour { Red, Green, Blue }

    [Flags]
    public enum Perm { None = 0, Read = 1, Write = 2, Run = 4 }

    public sealed record Person(string Name, DateOnly Born, string? Note);

    public sealed record Trip(string From, string To, string Class);

    public sealed class Settings
    {
        public int Level { get; set; }

        public string Name { get; set; } = "";
    }

    public sealed record Tagged(List<string> Tags);

    public sealed record TupleArgs((int, string) Pair);

    // One code text and one name for every echo: all the echo functions share their sandbox processes.
    private const string EchoCode = "def echo(value):\n    return {'value': value, 'type': type(value).__name__, 'repr': repr(value)}";

    private const string PickCode = """
        def pick(name):
            import decimal
            deep = []
            for _ in range(300):
                deep = [deep]
            very_deep = []
            for _ in range(5000):
                very_deep = [very_deep]
            cases = {
                'int_400_digits': 10**400, 'float_1e39': 1e39, 'int_inexact': 2**53 + 1, 'float_tenth': 0.1,
                'decimal_too_long': decimal.Decimal('0.1000000000000000055511151231257827'), 'decimal_exact': decimal.Decimal('12345678901234567.89'),
                'colour_99': 99, 'colour_two': 'Red, Blue', 'colour_lower': 'red', 'perm_text': 'Read, Write',
                'tags_none': {'tags': ['a', None]}, 'person_missing': {'name': 'Ada', 'note': None},
                'person_none': {'name': None, 'born': '1815-12-10', 'note': None}, 'person_camel': {'Name': 'Ada', 'born': '1815-12-10', 'note': None},
                'settings_missing': {'name': 'x'}, 'person_extra': {'name': 'Ada', 'born': '1815-12-10', 'note': None, 'age': 36},
                'deep': deep, 'very_deep': very_deep, 'nan': float('nan'), 'nan_list': [1.0, float('inf'), float('-inf')], 'big_int': 10**5000 + 1,
                'lone': 'a\ud800b', 'two_units': '\U0001F600',
            }
            return cases[name]
        """;

    private AnyDefFunction<One<T>, Seen<T>> Echo<T>()
    {
        Server.Always(FakeReply.Code(EchoCode));
        return AnyDef.Function<One<T>, Seen<T>>("echo", TestEnvironment.Unique($"Return the value with its type, {typeof(T).Name}"), TestEnvironment.Options(Server));
    }

    private Task<T> Pick<T>(string name)
    {
        Server.Always(FakeReply.Code(PickCode));
        return AnyDef.Function<Case, T>("pick", TestEnvironment.Unique($"Pick a case as {typeof(T).Name}"), TestEnvironment.Options(Server)).InvokeAsync(new Case(name));
    }

    /// <summary>Sends every value in one batch, one stream and one call each; checks each came back equal and was the Python type.</summary>
    private async Task<IReadOnlyList<Seen<T>>> RoundTrip<T>(string pythonType, Func<T, T, bool> same, params T[] values)
    {
        var echo = Echo<T>();
        var batch = await echo.MapAsync(values.Select(v => new One<T>(v)));
        var stream = new List<Seen<T>>();
        await foreach (var o in echo.StreamAsync(Inputs(values)))
        {
            stream.Add(o.Value!);
        }

        var single = new List<Seen<T>>();
        foreach (var v in values) single.Add(await echo.InvokeAsync(new One<T>(v)));
        foreach (var results in new[] { batch, stream, single })
        {
            results.Should().HaveCount(values.Length);
            for (var i = 0; i < values.Length; i++)
            {
                same(results[i].Value, values[i]).Should().BeTrue($"{Show(values[i])} went out and {Show(results[i].Value)} came back (Python saw {results[i].Repr})");
                results[i].Type.Should().Be(pythonType, $"Python received {results[i].Repr} for {Show(values[i])}");
            }
        }

        return batch;
    }

    private static async IAsyncEnumerable<One<T>> Inputs<T>(IEnumerable<T> values)
    {
        foreach (var v in values)
        {
            await Task.Yield();
            yield return new One<T>(v);
        }
    }

    private static string Show<T>(T value) => value switch
    {
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture) + (double.IsNegative(d) && d == 0 ? " (negative zero)" : ""),
        float f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        _ => value?.ToString() ?? "null",
    };

    private static bool SameBits(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b) || (double.IsNaN(a) && double.IsNaN(b));

    private static bool SameDecimal(decimal a, decimal b) => decimal.GetBits(a).SequenceEqual(decimal.GetBits(b));

    [Fact]
    public async Task Doubles_cross_as_Python_floats_exactly_sign_of_zero_NaN_and_infinities_included()
    {
        var seen = await RoundTrip("float", SameBits,
            0.0, -0.0, 1.0, -1.0, 9007199254740992.0, 1e16, 0.1, 1.5e-300, double.Epsilon, double.MaxValue, double.MinValue, double.NaN,
            double.PositiveInfinity, double.NegativeInfinity);

        seen[1].Repr.Should().Be("-0.0");
        seen[2].Repr.Should().Be("1.0");
        seen[11].Repr.Should().Be("nan");
        seen[12].Repr.Should().Be("inf");
    }

    [Fact]
    public async Task Floats_and_halves_cross_as_the_exact_Python_float_they_hold()
    {
        var floats = await RoundTrip("float", (a, b) => SameBits(a, b), 0f, -0f, 1f, 0.1f, 16777216f, float.MaxValue, float.Epsilon, float.NaN,
            float.PositiveInfinity, float.NegativeInfinity);
        floats[3].Repr.Should().Be("0.10000000149011612", "Python receives the value the float holds, not its shortest text");

        await RoundTrip("float", (a, b) => a.Equals(b) && Half.IsNegative(a) == Half.IsNegative(b), (Half)0, -(Half)0, (Half)1, Half.MaxValue, Half.Epsilon,
            Half.NaN, Half.PositiveInfinity, Half.NegativeInfinity);
    }

    [Fact]
    public async Task Decimals_cross_as_Python_Decimals_with_every_digit_and_their_scale()
    {
        var seen = await RoundTrip("Decimal", SameDecimal,
            0m, 1m, 1.50m, -0.0001m, 12345678901234567.89m, decimal.MaxValue, decimal.MinValue, 0.0000000000000000000000000001m, 79228162514264337593543950.335m);

        seen[2].Repr.Should().Be("Decimal('1.50')");
        seen[4].Repr.Should().Be("Decimal('12345678901234567.89')");
    }

    [Fact]
    public async Task Integers_cross_exactly_at_every_width_and_big_integers_at_any_size()
    {
        await RoundTrip("int", (a, b) => a == b, 0, int.MinValue, int.MaxValue);
        await RoundTrip("int", (a, b) => a == b, long.MinValue, long.MaxValue);
        await RoundTrip("int", (a, b) => a == b, ulong.MinValue, ulong.MaxValue);
        await RoundTrip("int", (a, b) => a == b, byte.MaxValue, (byte)0);
        await RoundTrip("int", (a, b) => a == b, sbyte.MinValue, sbyte.MaxValue);
        await RoundTrip("int", (a, b) => a == b, short.MinValue, short.MaxValue);
        await RoundTrip("int", (a, b) => a == b, ushort.MaxValue, (ushort)1);
        await RoundTrip("int", (a, b) => a == b, uint.MaxValue, 0u);
        await RoundTrip("int", (a, b) => a == b, Int128.MinValue, Int128.MaxValue);
        await RoundTrip("int", (a, b) => a == b, UInt128.MaxValue);
        var huge = BigInteger.Pow(10, 5000) + 1;
        await RoundTrip("int", (a, b) => a == b, BigInteger.Zero, huge, -huge, BigInteger.Pow(2, 70000));
        (await Pick<BigInteger>("big_int")).Should().Be(BigInteger.Pow(10, 5000) + 1);
    }

    [Fact]
    public async Task Strings_and_chars_cross_exactly_lone_surrogates_included()
    {
        var seen = await RoundTrip("str", (a, b) => a == b, "", "straße 😀 日本", "\0nul", "a\ud800b", "\udc00", "\udc00\ud800", "\"quoted\"\n\\", "\u2028");
        seen[3].Repr.Should().Be("'a\\ud800b'", "Python holds the lone surrogate itself, not U+FFFD");
        await RoundTrip("str", (a, b) => a == b, 'a', '\ud800', '"', '\0');
        (await Pick<string>("lone")).Should().Be("a\ud800b");
        (await Pick<string>("two_units")).Should().Be("😀");
        await FluentActions.Awaiting(() => Pick<char>("two_units")).Should().ThrowAsync<ResultConversionException>().WithMessage("*str of 2 UTF-16 units*Char*");
    }

    [Fact]
    public async Task Enums_cross_by_name_and_flags_as_a_list_of_names()
    {
        await RoundTrip("str", (a, b) => a == b, Colour.Red, Colour.Blue);
        var flags = await RoundTrip("list", (a, b) => a == b, Perm.None, Perm.Read, Perm.Read | Perm.Write | Perm.Run);
        flags[2].Repr.Should().Be("['Read', 'Write', 'Run']");
        Server.PromptOf(Server.RequestCount - 1).Should().Contain("value: list[Literal['None', 'Read', 'Write', 'Run']]");
    }

    [Fact]
    public async Task Other_scalars_collections_records_and_nulls_cross_exactly()
    {
        await RoundTrip("bool", (a, b) => a == b, true, false);
        await RoundTrip("str", (a, b) => a == b, new DateOnly(1, 1, 1), DateOnly.MaxValue);
        await RoundTrip("str", (a, b) => a == b && a.Kind == b.Kind, new DateTime(2024, 2, 29, 13, 45, 0, 123, DateTimeKind.Utc), DateTime.MaxValue);
        await RoundTrip("str", (a, b) => a == b && a.Offset == b.Offset, new DateTimeOffset(2024, 2, 29, 13, 45, 0, TimeSpan.FromHours(-5)));
        await RoundTrip("str", (a, b) => a == b, TimeSpan.MinValue, TimeSpan.FromTicks(1));
        await RoundTrip("str", (a, b) => a == b, Guid.Empty, Guid.Parse("7f1a1b9e-6f1c-4a57-8d2b-2c43f1d0e9aa"));
        await RoundTrip("NoneType", (a, b) => a == b, (int?)null);
        await RoundTrip<string?>("NoneType", (a, b) => a == b, [null]);
        var lists = await RoundTrip("list", (a, b) => a.Zip(b).All(p => SameBits(p.First, p.Second)) && a.Count == b.Count,
            new List<double> { 1.0, -0.0, double.NaN, 2e16 });
        lists[0].Repr.Should().Be("[1.0, -0.0, nan, 2e+16]");
        var prices = await RoundTrip("dict", (a, b) => a.Count == b.Count && a.All(kv => SameDecimal(kv.Value, b[kv.Key])),
            new Dictionary<string, decimal> { ["tea"] = 2.50m, ["Mixed Key"] = 0m });
        prices[0].Repr.Should().Be("{'tea': Decimal('2.50'), 'Mixed Key': Decimal('0')}");
        await RoundTrip("dict", (a, b) => a == b, new Person("Ada", new DateOnly(1815, 12, 10), null));
        await RoundTrip("dict", (a, b) => a == b, new Trip("LHR", "JFK", "economy"));
        await RoundTrip("dict", (a, b) => JsonNode.DeepEquals(a, b), JsonNode.Parse("""{"a": [1, 2.5, "x", null, {"b": true}]}"""));
    }

    [Fact]
    public async Task Results_that_do_not_fit_are_refused_with_the_path_the_python_type_and_the_csharp_type()
    {
        (await Refused<double>("int_400_digits")).Should().Match<ResultConversionException>(e => e.Path == "result" && e.PythonType == "int")
            .And.Subject.As<ResultConversionException>().Message.Should().Contain("outside the range of Double");
        (await Refused<float>("float_1e39")).Message.Should().Contain("outside the range of Single");
        (await Refused<double>("int_inexact")).Message.Should().Contain("no exact Double");
        (await Refused<decimal>("decimal_too_long")).Message.Should().Contain("more digits than Decimal holds");
        (await Refused<Colour>("colour_99")).Message.Should().Contain("int").And.Contain("Colour");
        (await Refused<Colour>("colour_two")).Message.Should().Contain("'Red, Blue'").And.Contain("not a name of Colour");
        (await Refused<Colour>("colour_lower")).Message.Should().Contain("not a name of Colour");
        (await Refused<Perm>("perm_text")).Message.Should().Contain("str").And.Contain("Perm");
        (await Refused<Tagged>("tags_none")).Should().Match<ResultConversionException>(e => e.Path == "result.tags[1]" && e.PythonType == "None");
        (await Refused<Person>("person_missing")).Path.Should().Be("result.born");
        (await Refused<Person>("person_none")).Path.Should().Be("result.name");
        (await Refused<Person>("person_camel")).Message.Should().Contain("Name");
        (await Refused<Person>("person_extra")).Message.Should().Contain("age");
        (await Refused<Settings>("settings_missing")).Path.Should().Be("result.level", "a settable member Python leaves out is not left at its default");
        (await Refused<List<string>>("nan_list")).Path.Should().Be("result[0]");
    }

    [Fact]
    public async Task Python_values_that_fit_come_back_exactly()
    {
        (await Pick<decimal>("decimal_exact")).Should().Be(12345678901234567.89m);
        (await Pick<decimal>("float_tenth")).Should().Be(0.1m);
        double.IsNaN(await Pick<double>("nan")).Should().BeTrue();
        (await Pick<List<double>>("nan_list")).Should().Equal(1.0, double.PositiveInfinity, double.NegativeInfinity);
    }

    [Fact]
    public async Task Arguments_that_cannot_cross_are_refused_naming_the_parameter_and_both_types()
    {
        var colour = await FluentActions.Awaiting(() => Echo<Colour>().InvokeAsync(new One<Colour>((Colour)42))).Should().ThrowAsync<ArgumentSerializationException>();
        colour.Which.Path.Should().Be("value");
        colour.Which.Message.Should().Contain("(Colour)42 is not a defined Colour").And.Contain("Literal['Red', 'Green', 'Blue']");
        var perm = await FluentActions.Awaiting(() => Echo<Perm>().InvokeAsync(new One<Perm>((Perm)9))).Should().ThrowAsync<ArgumentSerializationException>();
        perm.Which.Message.Should().Contain("(Perm)9 has bits no single Perm member names");
        var person = await FluentActions.Awaiting(() => Echo<Person>().InvokeAsync(new One<Person>(new Person(null!, default, null)))).Should().ThrowAsync<ArgumentSerializationException>();
        person.Which.Path.Should().StartWith("value");
        person.Which.Message.Should().Contain("name");
    }

    [Fact]
    public async Task Nesting_past_the_one_limit_is_a_typed_error_for_that_call_and_the_process_lives_on()
    {
        // Arrange
        JsonNode deep = new JsonArray();
        for (var i = 0; i < 300; i++) deep = new JsonArray(deep);
        JsonNode fits = new JsonArray();
        for (var i = 0; i < 250; i++) fits = new JsonArray(fits);

        // Act / Assert: too deep as an argument, too deep as a result, and the same process still answers
        await FluentActions.Awaiting(() => Echo<JsonNode>().InvokeAsync(new One<JsonNode>(deep))).Should().ThrowAsync<ArgumentSerializationException>();
        await FluentActions.Awaiting(() => Pick<JsonNode>("deep")).Should().ThrowAsync<ResultConversionException>().WithMessage("*depth*");
        await FluentActions.Awaiting(() => Pick<JsonNode>("very_deep")).Should().ThrowAsync<ResultConversionException>();
        (await Pick<string>("lone")).Should().Be("a\ud800b");
        (await Echo<JsonNode>().InvokeAsync(new One<JsonNode>(fits))).Value.ToJsonString().Should().Be(fits.ToJsonString());
    }

    [Fact]
    public async Task Specs_are_valid_Python_for_keyword_members_tuples_are_refused_and_the_prompt_names_the_runtime_version()
    {
        await Echo<Trip>().InvokeAsync(new One<Trip>(new Trip("a", "b", "c")));
        var prompt = Server.PromptOf(Server.RequestCount - 1);
        prompt.Should().Contain("Trip = TypedDict('Trip', {'from': str, 'to': str, 'class': str})");
        prompt.Should().Contain("You write one Python 3.14 function").And.NotContain("3.12");
        FluentActions.Invoking(() => AnyDef.Function<TupleArgs, int>("pair", "Add.")).Should().Throw<NotSupportedException>().WithMessage("*tuple*record*");
        FluentActions.Invoking(() => AnyDef.Function<Case, (int, string)>("pair", "Add.")).Should().Throw<NotSupportedException>();
    }

    [Fact]
    public async Task On_the_json_path_float_and_decimal_hints_decide_the_python_type_and_decimals_keep_their_digits()
    {
        // Arrange: the CLI's path, a function declared by its signature and called with JSON
        Server.Always(FakeReply.Code("def kinds(x, price, xs, rate=None):\n    return repr((x, price, xs, rate))"));
        var kinds = AnyDef.FromSignature("def kinds(x: float, price: decimal.Decimal, xs: list[float], rate: float | None = None) -> str",
            TestEnvironment.Unique("Show the values"), TestEnvironment.Options(Server));

        // Act
        var result = await kinds.InvokeAsync(JsonNode.Parse("[1, 12345678901234567.890, [2, 3.5, 9007199254740993]]")!.AsArray(), new JsonObject { ["rate"] = 0 });

        // Assert: whole numbers became floats where exact, an int no float holds stays the int it was
        result!.GetValue<string>().Should().Be("(1.0, Decimal('12345678901234567.890'), [2.0, 3.5, 9007199254740993], 0.0)");
    }

    [Fact]
    public void Examples_show_the_model_decimals_and_non_finite_floats_as_python_values()
    {
        var f = AnyDef.Function<One<decimal>, List<double>>("halve", "Halve the price.", TestEnvironment.Options(Server),
            [(new One<decimal>(2.50m), [1.25, double.NaN, 2.0])]);

        f.Spec.Examples.Should().Equal("halve(decimal.Decimal('2.50')) == [1.25, float('nan'), 2.0]");
    }

    private async Task<ResultConversionException> Refused<T>(string name) =>
        (await FluentActions.Awaiting(() => Pick<T>(name)).Should().ThrowAsync<ResultConversionException>()).Which;
}

/// <summary>The same rules for [AnyDef] methods compiled by the real generator (AnyDef.Tests.Functions.Values).</summary>
[Collection(SandboxCollection.Name)]
public sealed class DeclaredValueSpecs : FakeModelSpecs
{
    private async Task<T> Configured<T>(Func<Task<T>> act)
    {
        Server.Always(request => FakeReply.Code(DeclaredFunctionSpecs.CodeFor(request)));
        AnyDef.Configure(TestEnvironment.Options(Server));
        try
        {
            return await act();
        }
        finally
        {
            AnyDef.Configure(AnyDefOptions.Default);
        }
    }

    private static AnyDefNet.Generated.DeclaredFunction Declared(string name) =>
        AnyDefNet.Generated.DeclaredFunction.FindAll(typeof(Functions.Values).Assembly).Single(f => f.Spec.Name == name);

    [Fact]
    public async Task Method_arguments_and_results_cross_exactly_with_the_python_types_the_hints_promise()
    {
        // Python asserts each type it receives (float, Decimal, list of names) and returns the value.
        List<double> doubles = [1.0, -0.0, double.NaN, 9007199254740992.0, double.NegativeInfinity, 0.1];
        var (echoed, price, prices, access, trip, text) = await Configured(async () => (
            Functions.Values.EchoDoubles(doubles),
            Functions.Values.EchoDecimal(12345678901234567.89m),
            Functions.Values.EchoPrices(new() { ["tea"] = 2.50m }),
            Functions.Values.EchoAccess(Functions.Access.Read | Functions.Access.Execute),
            Functions.Values.EchoTrip(new Functions.Trip("LHR", "JFK", "economy")),
            await Task.FromResult(Functions.Values.EchoText("a\ud800b"))));

        echoed.Select(BitConverter.DoubleToInt64Bits).Should().Equal(doubles.Select(BitConverter.DoubleToInt64Bits));
        price.Should().Be(12345678901234567.89m);
        decimal.GetBits(prices["tea"]).Should().Equal(decimal.GetBits(2.50m));
        access.Should().Be(Functions.Access.Read | Functions.Access.Execute);
        trip.Should().Be(new Functions.Trip("LHR", "JFK", "economy"));
        text.Should().Be("a\ud800b");
        Declared("echo_decimal").Spec.Signature.Should().Be("def echo_decimal(value: decimal.Decimal) -> decimal.Decimal");
        Declared("echo_access").Spec.Signature.Should().Contain("access: list[Literal['None', 'Read', 'Write', 'Execute']]");
        Declared("echo_trip").Spec.TypeDefinitions.Should().Equal("Trip = TypedDict('Trip', {'from': str, 'to': str, 'class': str})");
    }

    public sealed record DecimalArgs(decimal Value);

    public sealed record AccessArgs(Functions.Access Access);

    public sealed record TripArgs(Functions.Trip Trip);

    [Fact]
    public void A_method_and_the_runtime_declaration_map_decimals_flags_and_keyword_members_alike()
    {
        Declared("echo_decimal").Spec.Hash.Should().Be(AnyDef.Function<DecimalArgs, decimal>("echo_decimal", "Return the value unchanged.").Spec.Hash);
        Declared("echo_access").Spec.Hash.Should().Be(AnyDef.Function<AccessArgs, Functions.Access>("echo_access", "Return the access unchanged.").Spec.Hash);
        Declared("echo_trip").Spec.Hash.Should().Be(AnyDef.Function<TripArgs, Functions.Trip>("echo_trip", "Return the trip unchanged.").Spec.Hash);
    }

    [Fact]
    public async Task Method_values_that_cannot_cross_are_typed_errors_naming_where()
    {
        var tags = await FluentActions.Awaiting(() => Configured(() => Task.FromResult(Functions.Values.Tags("a,,b")))).Should().ThrowAsync<ResultConversionException>();
        tags.Which.Path.Should().Be("result[1]");
        tags.Which.PythonType.Should().Be("None");
        var narrow = await FluentActions.Awaiting(() => Configured(() => Task.FromResult(Functions.Values.Narrow(1e39)))).Should().ThrowAsync<ResultConversionException>();
        narrow.Which.Message.Should().Contain("outside the range of Single");
        var access = await FluentActions.Awaiting(() => Configured(() => Task.FromResult(Functions.Values.EchoAccess((Functions.Access)8)))).Should().ThrowAsync<ArgumentSerializationException>();
        access.Which.Path.Should().Be("access");
        access.Which.Message.Should().Contain("(Access)8").And.Contain("list[Literal[");
    }
}
