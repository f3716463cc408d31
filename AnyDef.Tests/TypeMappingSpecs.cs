using System.Numerics;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

[Collection(SandboxCollection.Name)]
public sealed class TypeMappingSpecs : FakeModelSpecs
{
    public sealed record BigArgs(BigInteger A, long B);

    public sealed record FloatArgs(double X, decimal Y, float Z);

    public sealed record TextArgs(string Text);

    public sealed record Point(int X, int Y);

    public sealed record Shape(string Name, List<Point> Points, Dictionary<string, double> Tags, Point? Anchor);

    public sealed record ShapeArgs(Shape Shape, int[] Scale);

    public sealed record DateArgs(DateOnly Day, DateTime At, int? Maybe, string? Note);

    public enum Colour { Red, Green }

    public sealed record EnumArgs(Colour Colour);

    [Fact]
    public async Task Big_integers_round_trip_exactly_both_ways()
    {
        // Arrange
        Server.Always(FakeReply.Code("def mul(a, b):\n    return a * b * 10**30"));
        var mul = AnyDef.DefineAsync<BigArgs, BigInteger>("mul", TestEnvironment.Unique("Multiply"), TestEnvironment.Options(Server));
        var a = BigInteger.Parse("123456789012345678901234567890");

        // Act
        var result = await mul(new BigArgs(a, long.MaxValue), default);

        // Assert
        result.Should().Be(a * long.MaxValue * BigInteger.Pow(10, 30));
        Server.PromptOf(0).Should().Contain("def mul(a: int, b: int) -> int");
    }

    [Fact]
    public async Task Floats_and_decimals_round_trip()
    {
        Server.Always(FakeReply.Code("def total(x, y, z):\n    return [x, y, z, x / 3]"));
        var total = AnyDef.DefineAsync<FloatArgs, double[]>("total", TestEnvironment.Unique("List the numbers"), TestEnvironment.Options(Server));

        var result = await total(new FloatArgs(1.5e-300, 2.25m, 0.5f), default);

        result.Should().Equal(1.5e-300, 2.25, 0.5, 1.5e-300 / 3);
        Server.PromptOf(0).Should().Contain("def total(x: float, y: decimal.Decimal, z: float) -> list[float]");
    }

    [Fact]
    public async Task Unicode_strings_round_trip_and_are_processed_as_text()
    {
        Server.Always(FakeReply.Code("def shout(text):\n    return text.upper() + '|' + str(len(text))"));
        var shout = AnyDef.DefineAsync<TextArgs, string>("shout", TestEnvironment.Unique("Upper-case"), TestEnvironment.Options(Server));

        var result = await shout(new TextArgs("straße 😀 \"quoted\"\n\\ 日本"), default);

        // 22 code points: Python counts the emoji once, where C# counts two UTF-16 units.
        result.Should().Be("STRASSE 😀 \"QUOTED\"\n\\ 日本|22");
    }

    [Fact]
    public async Task Nested_records_lists_dictionaries_and_null_round_trip_with_snake_case_fields()
    {
        Server.Always(FakeReply.Code("""
            def grow(shape, scale):
                pts = [{"x": p["x"] * scale[0], "y": p["y"] * scale[1]} for p in shape["points"]]
                return {"name": shape["name"] + "!", "points": pts, "tags": {k: v * 2 for k, v in shape["tags"].items()}, "anchor": shape["anchor"]}
            """));
        var grow = AnyDef.DefineAsync<ShapeArgs, Shape>("grow", TestEnvironment.Unique("Scale a shape"), TestEnvironment.Options(Server));
        var shape = new Shape("tri", [new Point(1, 2), new Point(3, 4)], new() { ["Mixed Case"] = 1.5 }, null);

        var result = await grow(new ShapeArgs(shape, [10, 100]), default);

        result.Name.Should().Be("tri!");
        result.Points.Should().Equal(new Point(10, 200), new Point(30, 400));
        result.Tags.Should().Equal(new Dictionary<string, double> { ["Mixed Case"] = 3.0 });
        result.Anchor.Should().BeNull();
        var prompt = Server.PromptOf(0);
        prompt.Should().Contain("def grow(shape: Shape, scale: list[int]) -> Shape");
        prompt.Should().Contain("class Point(TypedDict):").And.Contain("anchor: Point | None").And.Contain("tags: dict[str, float]");
    }

    [Fact]
    public async Task Dates_travel_as_iso_strings_and_nullable_values_as_none()
    {
        Server.Always(FakeReply.Code("""
            def describe(day, at, maybe, note):
                return f"{day}|{at}|{maybe is None}|{note is None}"
            """));
        var describe = AnyDef.DefineAsync<DateArgs, string>("describe", TestEnvironment.Unique("Describe"), TestEnvironment.Options(Server));

        var result = await describe(new DateArgs(new DateOnly(2024, 2, 29), new DateTime(2024, 2, 29, 13, 45, 0), null, null), default);

        result.Should().Be("2024-02-29|2024-02-29T13:45:00|True|True");
        Server.PromptOf(0).Should().Contain("def describe(day: str, at: str, maybe: int | None, note: str | None) -> str");
    }

    [Fact]
    public async Task Enums_travel_by_name()
    {
        Server.Always(FakeReply.Code("def flip(colour):\n    return 'Green' if colour == 'Red' else 'Red'"));
        var flip = AnyDef.DefineAsync<EnumArgs, Colour>("flip", TestEnvironment.Unique("Flip"), TestEnvironment.Options(Server));

        (await flip(new EnumArgs(Colour.Red), default)).Should().Be(Colour.Green);
        Server.PromptOf(0).Should().Contain("colour: Literal['Red', 'Green']");
    }

    [Fact]
    public async Task The_prompt_states_the_rules_the_docstring_and_the_csharp_types()
    {
        Server.Always(FakeReply.Code("def slug(text):\n    return text.lower()"));
        var description = TestEnvironment.Unique("Lower-case the text.\nKeep digits.");
        var slug = AnyDef.DefineAsync<TextArgs, string>("slug", description, TestEnvironment.Options(Server));

        await slug(new TextArgs("AB"), default);

        var prompt = Server.PromptOf(0);
        prompt.Should().Contain("Pure function").And.Contain("Standard library only").And.Contain("JSON-serialisable");
        prompt.Should().Contain("    Lower-case the text.\n    Keep digits.");
        prompt.Should().Contain("text: str (C# String Text)");
        Server.Requests[0]["model"]!.ToString().Should().Be("fake-model");
    }
}
