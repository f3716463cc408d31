using AnyDefNet.Generated;
using AnyDefNet.Tests.Functions;
using AnyDefNet.Tests.Infrastructure;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// [AnyDef] methods compiled by the real generator (AnyDef.Tests.Functions), called through the real sandbox with code
/// from the fake model server, the store folder or the store embedded in their assembly.
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class DeclaredFunctionSpecs : FakeModelSpecs
{
    public sealed record PriceArgs(Order Order, Dictionary<string, double> Discounts);

    public sealed record NextDayArgs(Weekday Day, DateOnly[] Holidays, int? Skip);

    private static DeclaredFunction Declared(string name) =>
        DeclaredFunction.FindAll(typeof(Text).Assembly).Single(f => f.Spec.Name == name);

    private static async Task<T> ConfiguredAsync<T>(AnyDefOptions options, Func<Task<T>> act)
    {
        AnyDef.Configure(options);
        try
        {
            return await act();
        }
        finally
        {
            AnyDef.Configure(AnyDefOptions.Default);
        }
    }

    [Fact]
    public void A_method_and_the_runtime_declaration_of_the_same_function_have_the_same_spec_hash()
    {
        // Arrange
        var byRecord = AnyDef.Function<PriceArgs, Invoice>("price_order", "Price an order: each line costs quantity * unit_price; apply the discount of the code.");
        var nextDay = AnyDef.Function<NextDayArgs, Weekday?>("next_day", "Name the next weekday, or None after the last one.");

        // Act
        var byMethod = Declared("price_order").Spec;
        var nextDayByMethod = Declared("next_day").Spec;

        // Assert
        byMethod.Hash.Should().Be(byRecord.Spec.Hash);
        byMethod.TypeDefinitions.Should().Equal(byRecord.Spec.TypeDefinitions);
        nextDayByMethod.Hash.Should().Be(nextDay.Spec.Hash);
        nextDayByMethod.Signature.Should().Be("def next_day(day: Literal['Monday', 'Tuesday', 'Wednesday'], holidays: list[str], skip: int | None) -> Literal['Monday', 'Tuesday', 'Wednesday'] | None");
    }

    [Fact]
    public async Task A_method_reads_the_file_stored_for_the_runtime_declaration_of_the_same_function()
    {
        // Arrange: the file is written for the record-based declaration
        var store = TestEnvironment.TempDir();
        var byRecord = AnyDef.Function<PriceArgs, Invoice>("price_order", "Price an order: each line costs quantity * unit_price; apply the discount of the code.");
        await new DirectoryCodeStore(store).WriteAsync(byRecord.Spec,
            "def price_order(order, discounts):\n    return {'order_id': order['order_id'], 'lines': [], 'subtotal': 1.0, 'discount': 0.0, 'total': 1.0}\n", "hand-written");
        var options = TestEnvironment.Options(Server) with { StoreDirectory = store, Frozen = true, AllowUnreviewed = true };

        // Act
        var invoice = await ConfiguredAsync(options, () => Task.FromResult(Orders.PriceOrder(new Order("A-1", [], null), [])));

        // Assert
        invoice.OrderId.Should().Be("A-1");
        invoice.Total.Should().Be(1.0);
        Server.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task Generated_methods_run_model_written_code_in_the_sandbox_sync_async_instance_and_static()
    {
        // Arrange
        Server.Always(request => FakeReply.Code(CodeFor(request)));
        var options = TestEnvironment.Options(Server);

        // Act
        var (slug, words, initials, point, next, none) = await ConfiguredAsync(options, async () => (
            Text.Slugify("Hello Big World"),
            await Text.CountWordsAsync("one two three"),
            await Text.InitialsAsync(["ada lovelace", "alan turing"]),
            new Geometry.Scale(2).Apply(new Point(1, 1.5)),
            Counter.Increment(9),
            Text.MaybeWord("")));

        // Assert
        slug.Should().Be("hello-big-world");
        words.Should().Be(3);
        initials.Should().Equal("AL", "AT");
        point.Should().Be(new Point(2, 3));
        next.Should().Be(10);
        none.Should().BeNull();
        var slugPrompt = Enumerable.Range(0, Server.RequestCount).Select(Server.PromptOf).Single(p => p.Contains("def slugify", StringComparison.Ordinal));
        slugPrompt.Should().Contain("def slugify(title: str, max_length: int = 40) -> str:")
            .And.Contain("max_length: Cut the slug at this many characters, on a hyphen.")
            .And.Contain("assert slugify(");
    }

    [Fact]
    public async Task The_documented_example_is_checked_and_code_that_fails_it_is_sent_back()
    {
        // Arrange: the first answer ignores accents, so the <example> fails
        Server.Then(FakeReply.Code("def slugify(title, max_length=40):\n    return '-'.join(title.lower().split())"))
            .Then(request => FakeReply.Code(CodeFor(request)));

        // Act
        var slug = await ConfiguredAsync(TestEnvironment.Options(Server), () => Task.FromResult(Text.Slugify("Crème Brûlée", 40)));

        // Assert
        slug.Should().Be("creme-brulee");
        Server.RequestCount.Should().Be(2);
        Server.PromptOf(1).Should().Contain("Wrong result: slugify(");
    }

    [Fact]
    public async Task The_callers_cancellation_token_reaches_the_call()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        var act = () => ConfiguredAsync(TestEnvironment.Options(Server), () => Text.CountWordsAsync("a b", cancelled.Token));

        (await act.Should().ThrowAsync<OperationCanceledException>()).Which.CancellationToken.Should().Be(cancelled.Token);
        Server.RequestCount.Should().Be(0);
    }

    [Fact]
    public async Task The_class_attribute_applies_until_the_application_configures_anydef_which_then_wins()
    {
        // Arrange
        Server.Always(FakeReply.Code("def double(n):\n    return n * 2"));
        var declared = Declared("double");

        // Act + Assert: frozen by the attribute, nothing stored, so no model is asked
        declared.Options.Timeout.Should().Be(TimeSpan.FromSeconds(7));
        declared.Options.Model.Should().Be("model-from-attribute");
        var call = () => FrozenByAttribute.Double(4);
        call.Should().Throw<FunctionNotStoredException>();
        Server.RequestCount.Should().Be(0);

        // Act + Assert: what the application configures wins over the attribute
        var result = await ConfiguredAsync(TestEnvironment.Options(Server), () => Task.FromResult((FrozenByAttribute.Double(4), declared.Options.Model)));
        result.Should().Be((8, "fake-model"));
        Server.RequestCount.Should().Be(1);
    }

    [Fact]
    public async Task A_function_in_the_embedded_store_runs_frozen_without_a_store_folder_and_never_asks_the_model()
    {
        // Arrange: no store folder; the reviewed file is a resource of AnyDef.Tests.Functions.dll
        var options = TestEnvironment.Options(Server) with { Frozen = true, StoreDirectory = null };

        // Act
        var sum = await ConfiguredAsync(options, () => Task.FromResult(Embedded.Sum([1, 2, 39])));
        var code = await ConfiguredAsync(options with { Frozen = false }, () => Task.FromResult(Embedded.Sum([5])));

        // Assert
        sum.Should().Be(42);
        code.Should().Be(5);
        Server.RequestCount.Should().Be(0);
        typeof(Embedded).Assembly.GetManifestResourceNames().Should().Contain($"anydef-store/sum.{Declared("sum").Spec.Hash[..12]}.py");
    }

    /// <summary>A correct implementation for whichever test function the request asks for.</summary>
    public static string CodeFor(System.Text.Json.Nodes.JsonNode request)
    {
        var prompt = string.Join("\n", request["messages"]!.AsArray().Select(m => m!["content"]!.ToString()));
        string[] candidates =
        [
            "def slugify(title, max_length=40):\n    import re, unicodedata\n    s = unicodedata.normalize('NFKD', title).encode('ascii', 'ignore').decode()\n    return re.sub(r'[^a-z0-9]+', '-', s.lower()).strip('-')[:max_length]",
            "def count_words(text):\n    return len(text.split())",
            "def initials(names):\n    return [''.join(w[0].upper() for w in n.split()) for n in names]",
            "def maybe_word(word):\n    return word or None",
            "def apply(point, factor):\n    return {'x': point['x'] * factor, 'y': point['y'] * factor}",
            "def increment(n):\n    return n + 1",
            "def price_order(order, discounts):\n    return {'order_id': order['order_id'], 'lines': [], 'subtotal': 0.0, 'discount': 0.0, 'total': 0.0}",
            "def next_day(day, holidays, skip):\n    days = ['Monday', 'Tuesday', 'Wednesday']\n    i = days.index(day) + 1\n    return days[i] if i < len(days) else None",
            "def double(n):\n    return n * 2",
            "def echo_doubles(values):\n    assert all(type(v) is float for v in values), [type(v) for v in values]\n    return values",
            "def echo_decimal(value):\n    import decimal\n    assert type(value) is decimal.Decimal, type(value)\n    return value",
            "def echo_prices(prices):\n    import decimal\n    assert all(type(v) is decimal.Decimal for v in prices.values())\n    return prices",
            "def echo_access(access):\n    assert type(access) is list, type(access)\n    return access",
            "def echo_trip(trip):\n    return {'from': trip['from'], 'to': trip['to'], 'class': trip['class']}",
            "def echo_text(text):\n    return text",
            "def tags(text):\n    return [t or None for t in text.split(',')]",
            "def narrow(value):\n    return value",
            "def sum(numbers):\n    return 0 + __builtins__['sum'](numbers) if isinstance(__builtins__, dict) else __import__('builtins').sum(numbers)",
        ];
        return candidates.First(c => prompt.Contains(c[..c.IndexOf('(', StringComparison.Ordinal)] + "(", StringComparison.Ordinal));
    }
}
