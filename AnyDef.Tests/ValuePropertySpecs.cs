using System.Numerics;
using AnyDefNet.Tests.Infrastructure;
using CsCheck;
using FluentAssertions;

namespace AnyDefNet.Tests;

/// <summary>
/// Random values of each mapped type make the round trip through the real sandbox unchanged, in batches (one round trip
/// per batch of random values, so hundreds of values cost a few calls).
/// </summary>
[Collection(SandboxCollection.Name)]
public sealed class ValuePropertySpecs : FakeModelSpecs
{
    public sealed record Row(double D, float F, decimal M, long L, BigInteger B, string S, List<double> Ds, Dictionary<string, decimal> Ms, ValueConformanceSpecs.Perm P);

    public sealed record RowArgs(Row Row);

    private const string EchoCode = """
        def echo(row):
            import decimal
            assert type(row['d']) is float and type(row['f']) is float and type(row['m']) is decimal.Decimal, row
            assert all(type(x) is float for x in row['ds']) and all(type(x) is decimal.Decimal for x in row['ms'].values()), row
            return row
        """;

    private static readonly Gen<decimal> Decimals = Gen.Select(Gen.Int, Gen.Int, Gen.Int, Gen.Bool, Gen.Byte[0, 28], (lo, mid, hi, neg, scale) => new decimal(lo, mid, hi, neg, scale));

    private static readonly Gen<ValueConformanceSpecs.Perm> Perms = Gen.Int[0, 7].Select(i => (ValueConformanceSpecs.Perm)i);

    private static readonly Gen<Row> Rows = Gen.Select(
            Gen.Select(Gen.Double, Gen.Float, Decimals, Gen.Long, Gen.Long.Select(Gen.Int[0, 400], (l, e) => l * BigInteger.Pow(10, e)),
                Gen.Char.Array[0, 12].Select(cs => new string(cs)), (d, f, m, l, b, s) => (d, f, m, l, b, s)),
            Gen.Double.List[0, 5], Gen.Dictionary(Gen.String.AlphaNumeric, Decimals)[0, 4], Perms,
            (a, ds, ms, p) => new Row(a.d, a.f, a.m, a.l, a.b, a.s, ds, ms, p));

    private static bool Same(Row a, Row b) =>
        BitConverter.DoubleToInt64Bits(a.D) == BitConverter.DoubleToInt64Bits(b.D) || (double.IsNaN(a.D) && double.IsNaN(b.D))
            ? (BitConverter.SingleToInt32Bits(a.F) == BitConverter.SingleToInt32Bits(b.F) || (float.IsNaN(a.F) && float.IsNaN(b.F))) &&
              decimal.GetBits(a.M).SequenceEqual(decimal.GetBits(b.M)) && a.L == b.L && a.B == b.B && a.S == b.S && a.P == b.P &&
              a.Ds.Count == b.Ds.Count && a.Ds.Zip(b.Ds).All(p => BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second) || (double.IsNaN(p.First) && double.IsNaN(p.Second))) &&
              a.Ms.Count == b.Ms.Count && a.Ms.All(kv => b.Ms.TryGetValue(kv.Key, out var v) && decimal.GetBits(v).SequenceEqual(decimal.GetBits(kv.Value)))
            : false;

    [Fact]
    public async Task Random_values_of_every_type_round_trip_unchanged_in_batches()
    {
        // Arrange
        Server.Always(FakeReply.Code(EchoCode));
        var echo = AnyDef.Function<RowArgs, Row>("echo", TestEnvironment.Unique("Return the row"), TestEnvironment.Options(Server));

        // Act / Assert: each sample is a batch of 40 random rows, sent in one round trip
        await Rows.List[40].SampleAsync(async rows =>
        {
            var back = await echo.MapAsync(rows.Select(r => new RowArgs(r)));
            var wrong = rows.Zip(back).Where(p => !Same(p.First, p.Second)).ToList();
            wrong.Should().BeEmpty();
        }, iter: 10, threads: 1);
    }
}
