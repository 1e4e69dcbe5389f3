using System.Globalization;
using DuckDB.NET.Data;

namespace SparkReco.Bench;

/// <summary>How well a run's segments recover the communities a generated world planted.</summary>
/// <param name="Users">Users in both the ground truth (bots excluded) and the segments table.</param>
/// <param name="Communities">Planted communities among those users.</param>
/// <param name="Segments">Segments the job chose.</param>
/// <param name="AdjustedRandIndex">Hubert–Arabie adjusted Rand index of the two partitions (1 = identical, ~0 = chance).</param>
public sealed record SegmentRecovery(long Users, long Communities, long Segments, double AdjustedRandIndex)
{
    /// <summary>
    /// Compares <c>segments</c> (user_id, segment) with <c>ground_truth</c> (user_id, community, is_bot) of
    /// <c>sparkreco generate</c>. Computed in SQL from the contingency table, independently of the job's own
    /// ClusteringMetrics, so the script checks the job with different code than the job's tests.
    /// </summary>
    public static SegmentRecovery Measure(string segmentsPath, string truthPath)
    {
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"""
            SET autoinstall_known_extensions = false;
            WITH pairs AS (
                SELECT t.community, s.segment
                FROM read_parquet({Literal(Glob(segmentsPath))}) AS s
                JOIN read_parquet({Literal(Glob(truthPath))}) AS t ON t.user_id = s.user_id
                WHERE NOT t.is_bot
            ),
            cells AS (SELECT community, segment, count(*) AS n FROM pairs GROUP BY ALL),
            rows_ AS (SELECT community, sum(n) AS n FROM cells GROUP BY ALL),
            cols AS (SELECT segment, sum(n) AS n FROM cells GROUP BY ALL)
            SELECT
                (SELECT sum(n) FROM cells)::BIGINT,
                (SELECT count(*) FROM rows_)::BIGINT,
                (SELECT count(*) FROM cols)::BIGINT,
                (SELECT sum(n * (n - 1) / 2.0) FROM cells)::DOUBLE,
                (SELECT sum(n * (n - 1) / 2.0) FROM rows_)::DOUBLE,
                (SELECT sum(n * (n - 1) / 2.0) FROM cols)::DOUBLE
            """;
        using var reader = command.ExecuteReader();
        reader.Read();
        var users = reader.GetInt64(0);
        var (index, a, b) = (reader.GetDouble(3), reader.GetDouble(4), reader.GetDouble(5));
        var all = users * (users - 1) / 2.0;
        var expected = a * b / all;
        var maximum = (a + b) / 2;
        var ari = maximum == expected ? 1.0 : (index - expected) / (maximum - expected);
        return new SegmentRecovery(users, reader.GetInt64(1), reader.GetInt64(2), ari);
    }

    private static string Glob(string path) => Directory.Exists(path) ? Path.Combine(path, "**", "*.parquet") : path;

    private static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"users={Users} communities={Communities} segments={Segments} ari={AdjustedRandIndex:F4}");
}
