using SparkReco.Core.Sql;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// The SQL spelling of <see cref="ScoreGrid"/>, which both candidate stages sum on: per user a power-of-two scale from a
/// bound on the user's sums, each term rounded to the grid (so the engine's plain double sum is exact and
/// order-independent, far cheaper than a DECIMAL(38, 18) sum), and the reason as the max of one packed BIGINT instead of a
/// struct. Only functions Spark and DuckDB share, with the same results: the kernels compute the same doubles.
/// </summary>
public static class ScoreGridSql
{
    private const long IdSpan = 4294967296; // 2³²: the packed key's low half holds (2³² − 1 − id)

    /// <summary>The scale for a bound (an expression): 2^(51 − ⌈log₂ bound⌉), clamped; 1 when the bound is not positive.</summary>
    public static string Scale(ISqlDialect d, string bound) =>
        $"CASE WHEN {bound} > {d.Literal(0.0)} THEN power({d.Literal(2.0)}, least(greatest({d.Literal(51.0)} - ceil(log2({bound})), {d.Literal((double)-ScoreGrid.MaxExponent)}), {d.Literal((double)ScoreGrid.MaxExponent)})) ELSE {d.Literal(1.0)} END";

    /// <summary>
    /// The CTE body of <c>user_scales</c> (user_ix, scale): per user, the bound = (sources with a row in
    /// <paramref name="largest"/>) × max |factor| · largest, where <paramref name="sources"/> (aliased <c>x</c>) lists the
    /// user's sources with their <paramref name="factor"/> column and <paramref name="largest"/> (aliased <c>b</c>, columns
    /// <c>source_ix</c> and <c>largest</c>) the largest |value| each source lends; joined on b.source_ix = x.<paramref name="sourceKey"/>.
    /// The kernels compute the same bound (ScoreKernel).
    /// </summary>
    public static string UserScales(ISqlDialect d, string sources, string factor, string sourceKey, string largest) => Indent($"""
        SELECT
            user_ix,
            {Scale(d, "bound")} AS scale
        FROM (
            SELECT
                x.user_ix,
                count(*) * max(abs(x.{factor}) * b.largest) AS bound
            FROM {sources} AS x
            JOIN {largest} AS b
                ON b.source_ix = x.{sourceKey}
            GROUP BY
                x.user_ix
        ) AS bounds
        """);

    /// <summary>The term in grid units: round(product · scale); <paramref name="product"/> is the plain product of the two factors.</summary>
    public static string Units(string product, string scale) => $"round({product} * {scale})";

    /// <summary>The packed reason key of a term: floor(units / 2²¹) in the high bits, (2³² − 1 − id) in the low 32.</summary>
    public static string ReasonKey(ISqlDialect d, string units, string id) =>
        $"CAST(floor({units} / {d.Literal(ScoreGrid.ReasonUnits)}) AS BIGINT) * {IdSpan} + ({IdSpan - 1} - {id})";

    /// <summary>
    /// The contributor id back from the largest packed key of a group: the low 32 bits by a floor modulo (a group of
    /// negative terms has a negative key, and SQL's % keeps the dividend's sign).
    /// </summary>
    public static string ReasonOf(string packedKeys) => $"CAST({IdSpan - 1} - (max({packedKeys}) % {IdSpan} + {IdSpan}) % {IdSpan} AS INTEGER)";

    /// <summary>
    /// The <c>sums</c> CTE body: per (user_ix, item_ix) the exact sum of units / scale as <paramref name="sumColumn"/> and
    /// the reason, over the rows <paramref name="contributions"/> gives for a slice filter (null: every row), in the
    /// dialect's <see cref="ISqlDialect.AggregateSlices"/> slices by user (the contributions are inlined per slice, so
    /// the filter reaches the scan, rather than a CTE the engine would materialise whole).
    /// </summary>
    public static string SlicedSums(ISqlDialect d, string sumColumn, string contributorColumn, Func<string?, string> contributions)
    {
        var slices = d.AggregateSlices;
        return Indent(string.Join("\nUNION ALL\n", Enumerable.Range(0, slices).Select(slice => $"""
            SELECT
                user_ix,
                item_ix,
                sum(units / scale) AS {sumColumn},
                {ReasonOf(ReasonKey(d, "units", contributorColumn))} AS reason_ix
            FROM (
            {Indent(contributions(slices > 1 ? $"% {slices} = {slice}" : null))}
            ) AS contributions
            GROUP BY
                user_ix,
                item_ix
            """)));
    }

    /// <summary>Indents a nested SELECT one level, so the printed plan reads as it nests.</summary>
    private static string Indent(string text) => "    " + text.Replace("\n", "\n    ", StringComparison.Ordinal);

    /// <summary>One comment line for the SQL header.</summary>
    public const string Note =
        "-- Terms are rounded to a per-user grid of 2^-51 of a bound on the user's sums (sources × largest |term|), so the plain sum is exact\n" +
        "-- in any order; the reason compares terms to 2^-29 of that bound (near-ties: lowest id).";
}
