using AnyDefNet;
using AnyDefNet.Hosting;

namespace AnyDefWebService;

/// <summary>The service's functions, declared once through the injected AnyDef service.</summary>
public sealed class TextFunctions(AnyDefService anyDef)
{
    /// <summary>Turns a title into a URL slug.</summary>
    public AnyDefFunction<SlugArgs, string> Slugify { get; } = anyDef.Function<SlugArgs, string>("slugify",
        "Turn a title into a URL slug: lower-case ASCII, accents removed, runs of other characters become one hyphen, " +
        "no leading or trailing hyphen, at most max_len characters (cut at a hyphen when possible).");

    /// <summary>Lists the primes in a range.</summary>
    public AnyDefFunction<PrimeArgs, List<long>> Primes { get; } = anyDef.Function<PrimeArgs, List<long>>("primes_between",
        "Return every prime p with low <= p <= high, ascending.");
}

/// <summary>The arguments of <see cref="TextFunctions.Slugify"/>.</summary>
public sealed record SlugArgs(string Title, int MaxLen);

/// <summary>The arguments of <see cref="TextFunctions.Primes"/>.</summary>
public sealed record PrimeArgs(long Low, long High);
