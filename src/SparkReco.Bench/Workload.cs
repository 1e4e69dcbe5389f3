using System.Globalization;

namespace SparkReco.Bench;

/// <summary>
/// A benchmark workload made by DuckDB's seeded <c>random()</c>: <c>user_id</c> = ⌊random()^UserExponent · Users⌋,
/// <c>item_id</c> = ⌊random()^ItemExponent · Items⌋ (exponent 3 gives the Zipf-like item popularity of
/// shared/bench/workload-m.md), every event a <c>view</c> at one fixed time.
/// </summary>
public sealed record Workload(string Name, long Rows, long Users, long Items, int UserExponent, int ItemExponent, string Description)
{
    /// <summary>The seed of workload-m.md; every workload uses it so each is reproducible on its own.</summary>
    public const string Seed = "0.42";

    /// <summary>The one event time: the synthetic generator's default end of history, so <c>as_of</c> is the same for every workload.</summary>
    public const string EventTime = "2026-11-01 00:00:00";

    public static readonly IReadOnlyList<Workload> All =
    [
        new("M", 5_000_000, 100_000, 20_000, 1, 3, "workload-m.md reference data: uniform users, Zipf-like items"),
        new("M-skewed", 5_000_000, 100_000, 20_000, 2, 3, "workload M with skewed user activity (user_id from pow(random(), 2))"),
        new("L", 50_000_000, 2_000_000, 200_000, 1, 3, "workload M's shape scaled to 50M events, 2M users, 200k items"),
    ];

    public static Workload? Find(string name) =>
        All.FirstOrDefault(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The query whose rows are the events. The first two columns are exactly workload-m.md's (for M); the constant
    /// columns draw no random numbers, so adding them leaves the ids unchanged. Must run with <c>threads = 1</c>
    /// right after <c>SELECT setseed(…)</c> to be reproducible byte for byte.
    /// </summary>
    public string SelectSql => string.Create(CultureInfo.InvariantCulture, $"""
        SELECT CAST(floor({Power("random()", UserExponent)} * {Users}) AS BIGINT) AS user_id,
               CAST(floor({Power("random()", ItemExponent)} * {Items}) AS BIGINT) AS item_id,
               CAST('view' AS VARCHAR) AS event_type,
               CAST(TIMESTAMP '{EventTime}' AS TIMESTAMP) AS event_time
        FROM range({Rows})
        """);

    private static string Power(string x, int exponent) =>
        exponent == 1 ? x : string.Create(CultureInfo.InvariantCulture, $"pow({x}, {exponent})");
}
