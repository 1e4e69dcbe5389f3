using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Engine.DuckDb;
using SparkReco.Kernels;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// The kernels' emulation of the dialect's exact sum against DuckDB itself: random non-negative terms from 1e-12 to 1e19
/// (both the 64-bit fast path and the 128-bit path), summed per group in SQL and in C#, must give the same doubles.
/// </summary>
public sealed class ExactDecimalSumTests
{
    [Fact]
    public async Task Sums_are_the_same_bits_as_the_engines_decimal_sum()
    {
        var random = new Random(20261129);
        var terms = Enumerable.Range(0, 20_000)
            .Select(i => (Group: i % 500, Value: random.NextDouble() * Math.Pow(10, random.Next(-12, 20))))
            .ToList();
        terms.AddRange([(0, 0.0), (1, 9.2), (1, 9.3), (2, 0.5e-18), (3, 1.5e-18)]);
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        var values = string.Join(",\n", terms.Select(t => $"({t.Group}, {engine.Dialect.Literal(t.Value)})"));
        var rows = await engine.QueryAsync(
            $"SELECT g, {engine.Dialect.ExactSum("x")} AS s FROM (VALUES {values}) AS t(g, x) GROUP BY g ORDER BY g", CancellationToken.None);

        var expected = rows.ToDictionary(r => Convert.ToInt32(r["g"], CultureInfo.InvariantCulture), r => (double)r["s"]!);
        foreach (var group in terms.GroupBy(t => t.Group))
        {
            Int128 total = 0;
            foreach (var (_, value) in group) total += ExactDecimalSum.Term(value);
            var actual = ExactDecimalSum.ToDouble(total);
            Assert.True(expected[group.Key] == actual, $"group {group.Key}: DuckDB {expected[group.Key]:R}, kernel {actual:R}");
        }
    }

    [Theory]
    [InlineData(-1.0)]
    [InlineData(1e20)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Terms_outside_the_decimal_range_are_refused(double value) =>
        Assert.Throws<OverflowException>(() => ExactDecimalSum.Term(value));
}
