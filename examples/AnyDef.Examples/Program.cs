using System.Diagnostics;
using System.Reflection;
using AnyDefNet;

// The examples ship their reviewed code in anydef-store/, so they run with no API key. With OPENAI_API_KEY or
// OPENAI_BASE_URL set, a function missing from the store is generated, checked and saved there for review.
var store = Environment.GetEnvironmentVariable("ANYDEF_STORE_DIR")
    ?? typeof(Examples).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "AnyDefStore").Value!;
var haveModel = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENAI_API_KEY"))
    || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OPENAI_BASE_URL"));
var options = new AnyDefOptions
{
    StoreDirectory = store,
    Frozen = !haveModel,
    Debug = args.Contains("--debug"),
};
Console.WriteLine($"store: {store} ({(haveModel ? "a model is configured: missing functions are generated" : "no model configured: frozen, stored code only")})");

var watch = Stopwatch.StartNew();

// Functions declared as [AnyDef] partial methods (Text.cs): the source generator writes their bodies. They follow what
// the application configures; their code comes from the store folder, or from the copy embedded in this assembly.
AnyDef.Configure(options);
Console.WriteLine($"Text.ToRoman     -> {Text.ToRoman(1994)}");
Console.WriteLine($"  (first call, including the sandbox start: {watch.ElapsedMilliseconds} ms)");
Console.WriteLine($"Text.CountWords  -> {await Text.CountWordsAsync("It's a fine day, isn't it?")}");
Console.WriteLine($"Text.Slugify     -> {Text.Slugify("Crème Brûlée: A Love Story!", 40)}");

// Functions declared at run time, by a record of arguments and a description
watch.Restart();
var slugify = AnyDef.Define<SlugArgs, string>("slugify",
    "Turn a title into a URL slug: lower-case ASCII, accents removed, runs of other characters become one hyphen, " +
    "no leading or trailing hyphen, at most max_len characters (cut at a hyphen when possible).", options);
Console.WriteLine($"slugify          -> {slugify(new SlugArgs("Crème Brûlée: A Love Story!", 40))}");
Console.WriteLine($"  (the same function as Text.Slugify, so the same stored file: {watch.ElapsedMilliseconds} ms)");

// Math, with big integers
var primes = AnyDef.Function<PrimeArgs, List<long>>("primes_between", "Return every prime p with low <= p <= high, ascending.", options);
Console.WriteLine($"primes_between   -> [{string.Join(", ", await primes.InvokeAsync(new PrimeArgs(90, 130)))}]");
var factorial = AnyDef.Define<FactorialArgs, System.Numerics.BigInteger>("factorial", "Return n! (n factorial) exactly.", options);
Console.WriteLine($"factorial(30)    -> {factorial(new FactorialArgs(30))}");

// Dates
var businessDays = AnyDef.DefineAsync<DateRange, int>("business_days",
    "Count the weekdays (Monday to Friday) from start to end inclusive, skipping the given holidays. Dates are ISO strings.", options);
var days = await businessDays(new DateRange(new DateOnly(2026, 12, 21), new DateOnly(2027, 1, 8), [new DateOnly(2026, 12, 25), new DateOnly(2027, 1, 1)]), CancellationToken.None);
Console.WriteLine($"business_days    -> {days}");

// Nested records
var invoice = AnyDef.Define<InvoiceArgs, Invoice>("price_order",
    "Price an order: each line costs quantity * unit_price; apply the percentage discount of the code in discounts " +
    "(unknown or null code: none) to the subtotal; round money to 2 decimals; list the lines with their totals.", options);
var priced = invoice(new InvoiceArgs(
    new Order("A-17", [new Line("pen", 3, 1.20), new Line("notebook", 2, 4.50)], "WINTER"),
    new Dictionary<string, double> { ["WINTER"] = 10 }));
Console.WriteLine($"price_order      -> {priced.OrderId}: subtotal {priced.Subtotal}, discount {priced.Discount}, total {priced.Total}");
foreach (var line in priced.Lines) Console.WriteLine($"                    {line.Item} x{line.Quantity} = {line.Total}");

// Many calls: one warm process per function, pipelined
watch.Restart();
var results = await Task.WhenAll(Enumerable.Range(0, 2_000).Select(i => primes.InvokeAsync(new PrimeArgs(i, i + 10))));
Console.WriteLine($"2,000 concurrent calls of primes_between in {watch.ElapsedMilliseconds} ms ({results.Sum(r => r.Count)} primes found)");
watch.Restart();
var batch = await primes.MapAsync(Enumerable.Range(0, 2_000).Select(i => new PrimeArgs(i, i + 10)));
Console.WriteLine($"the same 2,000 inputs as one batch in {watch.ElapsedMilliseconds} ms ({batch.Sum(r => r.Count)} primes found)");

// A typed error, and the sandbox keeps working
try
{
    slugify(new SlugArgs("x", -1));
}
catch (PythonExecutionException ex)
{
    Console.WriteLine($"slugify(max_len=-1) raised {ex.PythonType}: {ex.PythonMessage}");
}

Console.WriteLine($"slugify          -> {slugify(new SlugArgs("Still working?", 40))}");

// An agent that answers a question by running Python in the sandbox (the run_python tool; Agent.cs)
await AnyDefExamples.Agent.RunAsync(haveModel);
return 0;

/// <summary>Marker for locating this assembly.</summary>
internal sealed class Examples;

internal sealed record SlugArgs(string Title, int MaxLen);

internal sealed record PrimeArgs(long Low, long High);

internal sealed record FactorialArgs(int N);

internal sealed record DateRange(DateOnly Start, DateOnly End, DateOnly[] Holidays);

internal sealed record Line(string Item, int Quantity, double UnitPrice);

internal sealed record Order(string OrderId, List<Line> Lines, string? DiscountCode);

internal sealed record InvoiceArgs(Order Order, Dictionary<string, double> Discounts);

internal sealed record PricedLine(string Item, int Quantity, double Total);

internal sealed record Invoice(string OrderId, List<PricedLine> Lines, double Subtotal, double Discount, double Total);
