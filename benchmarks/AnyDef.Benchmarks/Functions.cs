namespace AnyDefNet.Benchmarks;

/// <summary>The measured functions: a trivial one and a heavier one (a prime sieve to 10,000).</summary>
internal static class Functions
{
    public const string Add = "def add(a, b):\n    return a + b\n";

    public const string Sieve = """
        def sieve(a, b):
            n = 10_000
            flags = bytearray([1]) * (n + 1)
            flags[0:2] = b"\x00\x00"
            for p in range(2, int(n ** 0.5) + 1):
                if flags[p]:
                    flags[p * p :: p] = bytearray(len(range(p * p, n + 1, p)))
            return sum(flags) + a + b
        """;

    public static string Code(string name) => name == "add" ? Add : Sieve;
}
