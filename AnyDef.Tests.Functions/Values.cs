namespace AnyDefNet.Tests.Functions;

[Flags]
public enum Access
{
    None = 0,
    Read = 1,
    Write = 2,
    Execute = 4,
}

/// <summary>A record whose members are named like Python keywords.</summary>
public sealed record Trip(string From, string To, string Class);

/// <summary>Values declared as [AnyDef] methods, for the value conformance specs: each function returns its argument.</summary>
public static partial class Values
{
    [AnyDef("Return the values unchanged.")]
    public static partial List<double> EchoDoubles(List<double> values);

    [AnyDef("Return the value unchanged.")]
    public static partial decimal EchoDecimal(decimal value);

    [AnyDef("Return the value unchanged.")]
    public static partial Dictionary<string, decimal> EchoPrices(Dictionary<string, decimal> prices);

    [AnyDef("Return the access unchanged.")]
    public static partial Access EchoAccess(Access access);

    [AnyDef("Return the trip unchanged.")]
    public static partial Trip EchoTrip(Trip trip);

    [AnyDef("Return the text unchanged.")]
    public static partial string EchoText(string text);

    [AnyDef("Split the text into tags.")]
    public static partial List<string> Tags(string text);

    [AnyDef("Return the number as a float.")]
    public static partial float Narrow(double value);
}
