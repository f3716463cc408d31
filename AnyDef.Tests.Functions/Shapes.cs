namespace AnyDefNet.Tests.Functions;

/// <summary>An instance method in a record, nested inside a class.</summary>
public static partial class Geometry
{
    public sealed partial record Scale(double Factor)
    {
        /// <summary>Multiply every coordinate of the point by the factor.</summary>
        [AnyDef]
        public partial Point Apply(Point point, double factor);

        public Point Apply(Point point) => Apply(point, Factor);
    }
}

/// <summary>A static method in a struct.</summary>
public partial struct Counter
{
    /// <summary>Add one to n.</summary>
    /// <example><code>Counter.Increment(41) == 42</code></example>
    [AnyDef]
    public static partial long Increment(long n);
}

public sealed record Point(double X, double Y);

public sealed record Line(string Item, int Quantity, double UnitPrice);

public sealed record Order(string OrderId, List<Line> Lines, string? DiscountCode);

public sealed record PricedLine(string Item, int Quantity, double Total);

public sealed record Invoice(string OrderId, List<PricedLine> Lines, double Subtotal, double Discount, double Total);

public enum Weekday
{
    Monday,
    Tuesday,
    Wednesday,
}

/// <summary>The same functions as the runtime API declares them, for spec-hash comparisons.</summary>
public static partial class Orders
{
    [AnyDef("Price an order: each line costs quantity * unit_price; apply the discount of the code.")]
    public static partial Invoice PriceOrder(Order order, Dictionary<string, double> discounts);

    [AnyDef("Name the next weekday, or None after the last one.")]
    public static partial Weekday? NextDay(Weekday day, DateOnly[] holidays, int? skip);
}

/// <summary>Settings from the attribute, used while the application has configured nothing.</summary>
[AnyDefDefaults(Frozen = true, TimeoutSeconds = 7, Model = "model-from-attribute")]
public static partial class FrozenByAttribute
{
    [AnyDef("Return n doubled.")]
    public static partial int Double(int n);
}

/// <summary>A function whose reviewed code is embedded in this assembly (anydef-store/).</summary>
public static partial class Embedded
{
    [AnyDef("Return the sum of the numbers.")]
    public static partial int Sum(int[] numbers);
}
