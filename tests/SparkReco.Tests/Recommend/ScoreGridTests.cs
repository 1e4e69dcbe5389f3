using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Engine.DuckDb;
using SparkReco.Jobs.Stages.Recommend;
using SparkReco.Kernels;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// The candidate stages' score grid: the SQL spelling (ScoreGridSql) computes the same scale, units and reason as the
/// kernels' <see cref="ScoreGrid"/> in DuckDB, the bound really keeps sums exact (any order gives the same bits), and the
/// packed reason decodes to the largest term's contributor, lowest id on ties.
/// </summary>
public sealed class ScoreGridTests
{
    [Fact]
    public void The_scale_puts_the_bound_just_below_two_to_the_51()
    {
        var random = new Random(7);
        for (var i = 0; i < 10_000; i++)
        {
            var bound = random.NextDouble() * Math.Pow(2, random.Next(-60, 60));
            if (bound == 0) continue;
            var scaled = bound * ScoreGrid.Scale(bound);
            Assert.InRange(scaled, Math.Pow(2, 50), Math.Pow(2, 51));
        }
        Assert.Equal(1.0, ScoreGrid.Scale(0));
        Assert.Equal(Math.Pow(2, ScoreGrid.MaxExponent), ScoreGrid.Scale(double.Epsilon));
    }

    [Fact]
    public void Sums_of_grid_terms_are_the_same_bits_in_any_order()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var terms = Enumerable.Range(0, 500).Select(_ => random.NextDouble() * Math.Pow(10, random.Next(-8, 4)) * (random.Next(5) == 0 ? -1 : 1)).ToArray();
            var scale = ScoreGrid.Scale(terms.Length * terms.Max(Math.Abs));
            var grid = terms.Select(t => ScoreGrid.Units(t * scale) / scale).ToArray();
            var forward = grid.Aggregate(0.0, (s, x) => s + x);
            var shuffled = grid.OrderBy(_ => random.Next()).Aggregate(0.0, (s, x) => s + x);
            Assert.Equal(BitConverter.DoubleToInt64Bits(forward), BitConverter.DoubleToInt64Bits(shuffled));
            Assert.True(Math.Abs(forward - terms.Sum()) <= terms.Length * 0.5 / scale * 1.0001, $"trial {trial}: grid sum {forward:R} vs {terms.Sum():R}");
        }
    }

    [Fact]
    public async Task The_sql_gives_the_same_scale_units_sum_and_reason_as_the_kernel()
    {
        var random = new Random(20261207);
        // Groups of terms (product, contributor id) with a per-group bound, including exact ties and a negative term.
        var rows = new List<(int Group, double Bound, double Product, int Id)>();
        for (var g = 0; g < 300; g++)
        {
            var n = random.Next(1, 30);
            var products = Enumerable.Range(0, n).Select(_ => random.NextDouble() * Math.Pow(10, random.Next(-6, 6))).ToList();
            if (g % 7 == 0) products[^1] = products[0];   // an exact tie: the lower id must win
            if (g % 11 == 0) products[0] = -products[0];
            var bound = n * products.Max(Math.Abs);
            var ids = Enumerable.Range(0, n).Select(_ => random.Next(0, 1_000_000)).Distinct().ToList();
            for (var k = 0; k < ids.Count; k++) rows.Add((g, bound, products[k], ids[k]));
        }
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        var d = engine.Dialect;
        var values = string.Join(",\n", rows.Select(r => $"({r.Group}, {d.Literal(r.Bound)}, {d.Literal(r.Product)}, {r.Id})"));
        var result = await engine.QueryAsync($"""
            WITH t AS (SELECT g, bound, product, CAST(id AS INTEGER) AS id FROM (VALUES {values}) AS v(g, bound, product, id)),
            scaled AS (SELECT g, id, {ScoreGridSql.Scale(d, "bound")} AS scale, product FROM t),
            units AS (SELECT g, id, scale, {ScoreGridSql.Units("product", "scale")} AS units FROM scaled)
            SELECT g, max(scale) AS scale, sum(units / scale) AS total, {ScoreGridSql.ReasonOf(ScoreGridSql.ReasonKey(d, "units", "id"))} AS reason
            FROM units GROUP BY g ORDER BY g
            """, CancellationToken.None);

        // The engine's own doubles for bound and product (a decimal literal cast to DOUBLE need not give the nearest double).
        var parsed = (await engine.QueryAsync($"SELECT g, bound, product, id FROM (VALUES {values}) AS v(g, bound, product, id)", CancellationToken.None))
            .Select(r => (Group: Convert.ToInt32(r["g"], CultureInfo.InvariantCulture), Bound: (double)r["bound"]!, Product: (double)r["product"]!, Id: Convert.ToInt32(r["id"], CultureInfo.InvariantCulture)))
            .ToList();
        foreach (var row in result)
        {
            var g = Convert.ToInt32(row["g"], CultureInfo.InvariantCulture);
            var group = parsed.Where(r => r.Group == g).ToList();
            var scale = ScoreGrid.Scale(group[0].Bound);
            Assert.Equal(scale, (double)row["scale"]!);
            var total = 0.0;
            var (bestKey, reason) = (long.MinValue, int.MaxValue);
            foreach (var r in group)
            {
                var units = ScoreGrid.Units(r.Product * scale);
                total += units / scale;
                var key = ScoreGrid.ReasonKey(units);
                if (key > bestKey || (key == bestKey && r.Id < reason)) (bestKey, reason) = (key, r.Id);
            }
            Assert.True(total == (double)row["total"]!, $"group {g}: SQL {(double)row["total"]!:R}, kernel {total:R}");
            Assert.Equal(reason, Convert.ToInt32(row["reason"], CultureInfo.InvariantCulture));
            // The reason is the largest term's contributor unless another term is within the key's grid of it.
            var largest = group.Max(r => r.Product);
            Assert.Contains(group, r => r.Id == reason && r.Product >= largest - ScoreGrid.ReasonUnits * 2 / scale);
        }
        Assert.Equal(300, result.Count);
    }
}
