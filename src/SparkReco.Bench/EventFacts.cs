using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Serialization;
using DuckDB.NET.Data;

namespace SparkReco.Bench;

/// <summary>
/// What an events input is, in the terms of workload-m.md: sizes, the per-user and per-item extremes, and the
/// work of item co-occurrence (ordered pair increments Σ_u n_u(n_u − 1) over distinct items per user, and the
/// distinct unordered item pairs that co-occur at least once).
/// </summary>
public sealed record EventFacts
{
    public required long Rows { get; init; }
    public required long DistinctPairs { get; init; }
    public required long Users { get; init; }
    public required long Items { get; init; }
    public required long MaxItemsPerUser { get; init; }
    public required long MaxUsersPerItem { get; init; }
    public required long OrderedPairIncrements { get; init; }
    public required long DistinctCooccurringPairs { get; init; }

    /// <summary>The per-user item cap the increments are also given under (the job's Similarity:MaxItemsPerUser default).</summary>
    public required int Cap { get; init; }
    public required long UsersAboveCap { get; init; }
    public required long CappedOrderedPairIncrements { get; init; }

    /// <summary>The facts of the uniform file as written in shared/bench/workload-m.md.</summary>
    public static readonly IReadOnlyDictionary<string, long> WorkloadMReference = new Dictionary<string, long>(StringComparer.Ordinal)
    {
        ["rows"] = 5_000_000,
        ["distinct_pairs"] = 4_848_836,
        ["users"] = 100_000,
        ["items"] = 20_000,
        ["max_items_per_user"] = 79,
        ["max_users_per_item"] = 84_332,
        ["ordered_pair_increments"] = 234_962_880,
        ["distinct_cooccurring_pairs"] = 54_954_118,
    };

    [JsonIgnore]
    public IReadOnlyList<(string Key, string Label, long Value)> Lines =>
    [
        ("rows", "rows", Rows),
        ("distinct_pairs", "distinct (user, item) pairs", DistinctPairs),
        ("users", "users", Users),
        ("items", "items", Items),
        ("max_items_per_user", "max items per user", MaxItemsPerUser),
        ("max_users_per_item", "users of the most popular item", MaxUsersPerItem),
        ("ordered_pair_increments", "Σ_u n_u(n_u − 1) ordered pair increments", OrderedPairIncrements),
        ("distinct_cooccurring_pairs", "distinct unordered co-occurring item pairs", DistinctCooccurringPairs),
        ("users_above_cap", string.Create(CultureInfo.InvariantCulture, $"users with more than {Cap} items"), UsersAboveCap),
        ("capped_ordered_pair_increments", string.Create(CultureInfo.InvariantCulture, $"  … increments with the {Cap} cap"), CappedOrderedPairIncrements),
    ];

    /// <summary>
    /// Computes the facts of <paramref name="source"/> (a DuckDB table expression such as <c>read_parquet('…')</c>).
    /// Ids of any type are ranked to dense integers in SQL; the pair counts then run as a row-wise sparse walk
    /// over CSR arrays (for each item, its users' items), which is exact and takes seconds where the SQL self-join
    /// would take minutes.
    /// </summary>
    public static EventFacts Compute(DuckDBConnection connection, string source, int cap)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var rows = Scalar(connection, $"SELECT count(*) FROM {source}");
        Execute(connection, $"""
            CREATE OR REPLACE TEMP TABLE bench_pairs AS
            WITH pairs AS (
                SELECT DISTINCT user_id, item_id FROM {source}
            ),
            users AS (
                SELECT user_id, CAST(row_number() OVER (ORDER BY user_id) - 1 AS INTEGER) AS u
                FROM (SELECT DISTINCT user_id FROM pairs)
            ),
            items AS (
                SELECT item_id, CAST(row_number() OVER (ORDER BY item_id) - 1 AS INTEGER) AS i
                FROM (SELECT DISTINCT item_id FROM pairs)
            )
            SELECT users.u, items.i
            FROM pairs
            JOIN users USING (user_id)
            JOIN items USING (item_id)
            """);
        var userCount = (int)Scalar(connection, "SELECT coalesce(max(u) + 1, 0) FROM bench_pairs");
        var itemCount = (int)Scalar(connection, "SELECT coalesce(max(i) + 1, 0) FROM bench_pairs");
        var pairCount = Scalar(connection, "SELECT count(*) FROM bench_pairs");
        if (pairCount > int.MaxValue) throw new InvalidOperationException($"{pairCount:N0} distinct pairs are more than the facts walk holds in one array.");

        var us = new int[pairCount];
        var its = new int[pairCount];
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT u, i FROM bench_pairs";
            using var reader = command.ExecuteReader();
            var n = 0;
            while (reader.Read())
            {
                us[n] = reader.GetInt32(0);
                its[n] = reader.GetInt32(1);
                n++;
            }
        }
        Execute(connection, "DROP TABLE bench_pairs");

        var byUser = Csr.Build(us, its, userCount);
        var byItem = Csr.Build(its, us, itemCount);
        us = its = [];

        long increments = 0, capped = 0, aboveCap = 0, maxItems = 0, maxUsers = 0;
        for (var u = 0; u < userCount; u++)
        {
            long n = byUser.Length(u);
            increments += n * (n - 1);
            var c = Math.Min(n, cap);
            capped += c * (c - 1);
            if (n > cap) aboveCap++;
            maxItems = Math.Max(maxItems, n);
        }
        for (var i = 0; i < itemCount; i++) maxUsers = Math.Max(maxUsers, byItem.Length(i));

        return new EventFacts
        {
            Rows = rows,
            DistinctPairs = pairCount,
            Users = userCount,
            Items = itemCount,
            MaxItemsPerUser = maxItems,
            MaxUsersPerItem = maxUsers,
            OrderedPairIncrements = increments,
            DistinctCooccurringPairs = CountCooccurringPairs(byUser, byItem, itemCount),
            Cap = cap,
            UsersAboveCap = aboveCap,
            CappedOrderedPairIncrements = capped,
        };
    }

    /// <summary>
    /// Distinct unordered pairs (a, b), a &lt; b, with at least one user who has both: for each item a, walk its users'
    /// items b &gt; a and stamp them in a dense per-thread array (stamp = a + 1, so it never needs clearing).
    /// </summary>
    private static long CountCooccurringPairs(Csr byUser, Csr byItem, int itemCount)
    {
        long total = 0;
        Parallel.ForEach(
            Partitioner.Create(0, itemCount, Math.Max(1, itemCount / (Environment.ProcessorCount * 16))),
            () => (Stamp: new int[itemCount], Count: 0L),
            (range, _, local) =>
            {
                var stamp = local.Stamp;
                var count = local.Count;
                for (var a = range.Item1; a < range.Item2; a++)
                {
                    var mark = a + 1;
                    foreach (var u in byItem.Row(a))
                    {
                        foreach (var b in byUser.Row(u))
                        {
                            if (b > a && stamp[b] != mark)
                            {
                                stamp[b] = mark;
                                count++;
                            }
                        }
                    }
                }
                return (stamp, count);
            },
            local => Interlocked.Add(ref total, local.Count));
        return total;
    }

    public static void Execute(DuckDBConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static long Scalar(DuckDBConnection connection, string sql)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Compressed sparse rows: row r's columns are <c>Columns[Offsets[r]..Offsets[r + 1]]</c>.</summary>
    private sealed class Csr
    {
        private readonly long[] _offsets;
        private readonly int[] _columns;

        private Csr(long[] offsets, int[] columns)
        {
            _offsets = offsets;
            _columns = columns;
        }

        public long Length(int row) => _offsets[row + 1] - _offsets[row];

        public ReadOnlySpan<int> Row(int row) => _columns.AsSpan((int)_offsets[row], (int)Length(row));

        public static Csr Build(int[] rows, int[] columns, int rowCount)
        {
            Debug.Assert(rows.Length == columns.Length);
            var offsets = new long[rowCount + 1];
            foreach (var r in rows) offsets[r + 1]++;
            for (var r = 0; r < rowCount; r++) offsets[r + 1] += offsets[r];
            var next = offsets[..^1];
            var values = new int[columns.Length];
            for (var k = 0; k < rows.Length; k++) values[next[rows[k]]++] = columns[k];
            return new Csr(offsets, values);
        }
    }
}
