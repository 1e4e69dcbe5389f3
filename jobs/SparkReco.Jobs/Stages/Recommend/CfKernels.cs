using System.Globalization;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Kernels;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>
/// What the CF stages share around the C# kernels: when to use them, reading their inputs from the engine, writing
/// their output back in bulk, and the work budget checked before any pair is generated (SQL or kernel).
/// </summary>
public static class CfKernels
{
    /// <summary>Kernels run when configured and the engine's tables live in this process (the embedded engine).</summary>
    public static bool Use(IEngine engine, StageContext c) => c.Settings.Engine.Kernels == "auto" && engine.IsInProcess;

    /// <summary>The plan's note on a stage that has a kernel.</summary>
    public static string PlanNote(string stage) =>
        $"-- {stage}: with Engine:Kernels=auto the embedded engine computes this table with a C# sparse top-K kernel\n" +
        "-- (identical rows); the SQL below is the definition, and what other engines run.";

    /// <summary>cf_affinity as the kernels use it: users × items with affinity values, and each entry's latest event time in seconds.</summary>
    public sealed record AffinityMatrix(Csr Matrix, double[] LastSeconds);

    /// <summary>cf_affinity of <paramref name="scope"/>, read from the engine once per run and then kept in process.</summary>
    public static async Task<AffinityMatrix> AffinityAsync(IEngine engine, StageContext c, TableScope scope, CancellationToken ct)
    {
        var name = scope["cf_affinity"];
        if (c.InProcessTables.TryGetValue(name, out var cached)) return (AffinityMatrix)cached;
        var users = await CountAsync(engine, c, scope["cf_users"], ct);
        var items = await CountAsync(engine, c, scope["cf_items"], ct);
        var table = await engine.ReadColumnsAsync(
            $"""
            SELECT
                user_ix,
                item_ix,
                affinity,
                {c.Dialect.EpochSeconds("last_event_time")} AS last_seconds
            FROM {c.Q(name)}
            """, ct);
        var n = table.RowCount;
        var positions = new int[n];
        var matrix = Csr.FromTriples(users, items, table.Ints("user_ix").AsSpan(0, n), table.Ints("item_ix").AsSpan(0, n), table.Reals("affinity").AsSpan(0, n), positions);
        var seconds = table.Reals("last_seconds");
        var lastSeconds = new double[n];
        for (var r = 0; r < n; r++) lastSeconds[positions[r]] = seconds[r];
        var result = new AffinityMatrix(matrix, lastSeconds);
        c.InProcessTables[name] = result;
        return result;
    }

    /// <summary>A table a kernel wrote, as rows × columns of its scores: kept in process by the kernel, else read from the engine.</summary>
    public static async Task<RankedRows> RankedAsync(IEngine engine, StageContext c, string table, (string Row, string Column, string Score, string Extra) names, int rows, int columns, CancellationToken ct)
    {
        if (c.InProcessTables.TryGetValue(table, out var cached)) return (RankedRows)cached;
        var read = await engine.ReadColumnsAsync(
            $"SELECT {names.Row}, {names.Column}, {names.Score}, CAST({names.Extra} AS BIGINT) AS extra FROM {c.Q(table)} ORDER BY {names.Row}, {c.Q("rank")}", ct);
        var n = read.RowCount;
        var matrix = Csr.FromTriples(rows, columns, read.Ints(names.Row).AsSpan(0, n), read.Ints(names.Column).AsSpan(0, n), read.Reals(names.Score).AsSpan(0, n));
        // Rows were read in (row, rank) order and the counting sort is stable, so entry e is read row e.
        return new RankedRows(matrix, read.Longs("extra")[..n]);
    }

    /// <summary>Number of rows of a dictionary table (cf_users, cf_items): the dense id range.</summary>
    public static async Task<int> CountAsync(IEngine engine, StageContext c, string table, CancellationToken ct)
    {
        var rows = await engine.QueryAsync($"SELECT count(*) AS n FROM {c.Q(table)}", ct);
        return Convert.ToInt32(rows[0]["n"], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Writes kernel output as <paramref name="table"/> with columns (row, column, score, extra, rank) — the extra column
    /// BIGINT or, for ids, INTEGER, so the table has exactly the SQL path's types — and keeps the (row, column, score) entries in process as a rows × columns matrix for the next kernel
    /// (with the extras when <paramref name="keepExtras"/>); <paramref name="perRow"/> is the kernel's K.
    /// </summary>
    public static async Task<long> WriteAndKeepAsync(IEngine engine, StageContext c, string table, (string Row, string Column, string Score, string Extra) names,
        bool extraIsId, IEnumerable<TopKBlock> blocks, int rows, int columns, int perRow, bool keepExtras, CancellationToken ct)
    {
        // Grown by doubling up to the most the kernel can emit (rows × K), so a sparse result (few neighbours) stays small
        // and a full one (every user's N′ candidates) is never over-allocated.
        var bound = (int)Math.Min((long)rows * perRow, Array.MaxLength);
        var offsets = new int[rows + 1];
        var kept = new int[Math.Min(bound, 1 << 16)];
        var scores = new double[kept.Length];
        var extras = keepExtras ? new long[kept.Length] : [];
        var n = 0;
        var written = await WriteAsync(engine, table, names, extraIsId, blocks, block =>
        {
            if (n + block.Count > kept.Length)
            {
                var size = (int)Math.Min(bound, Math.Max(n + (long)block.Count, 2L * kept.Length));
                Array.Resize(ref kept, size);
                Array.Resize(ref scores, size);
                if (keepExtras) Array.Resize(ref extras, size);
            }
            Array.Copy(block.Columns, 0, kept, n, block.Count);
            Array.Copy(block.Scores, 0, scores, n, block.Count);
            if (keepExtras) Array.Copy(block.Extras, 0, extras, n, block.Count);
            for (var i = 0; i < block.Count; i++) offsets[block.Rows[i] + 1]++;
            n += block.Count;
        }, ct);
        for (var r = 0; r < rows; r++) offsets[r + 1] += offsets[r];
        c.InProcessTables[table] = new RankedRows(Csr.FromOffsets(rows, columns, offsets, kept, scores), extras);
        return written;
    }

    private static Task<long> WriteAsync(IEngine engine, string table, (string Row, string Column, string Score, string Extra) names, bool extraIsId,
        IEnumerable<TopKBlock> blocks, Action<TopKBlock> observe, CancellationToken ct) =>
        engine.WriteTableAsync(table,
            [
                (names.Row, ColumnType.Int32Bit),
                (names.Column, ColumnType.Int32Bit),
                (names.Score, ColumnType.Real),
                (names.Extra, extraIsId ? ColumnType.Int32Bit : ColumnType.Int64Bit),
                ("rank", ColumnType.Int64Bit),
            ],
            AsColumns(blocks, names, extraIsId, observe, ct), ct);

    private static async IAsyncEnumerable<ColumnTable> AsColumns(IEnumerable<TopKBlock> blocks, (string Row, string Column, string Score, string Extra) names,
        bool extraIsId, Action<TopKBlock> observe, [EnumeratorCancellation] CancellationToken ct)
    {
        int[]? ids = null;
        // The kernel computes block n + 1 on the pool while the engine appends block n (RowTopK keeps two blocks, so
        // block n stays intact): the appender is single-threaded, so without the overlap a core idles while it runs.
        var source = blocks.GetEnumerator();
        var next = Task.Run(source.MoveNext, ct);
        try
        {
            while (await next)
            {
                var block = source.Current;
                next = Task.Run(source.MoveNext, ct);
                observe(block);
                Column extra;
                if (extraIsId)
                {
                    ids ??= new int[block.Extras.Length];
                    for (var i = 0; i < block.Count; i++) ids[i] = checked((int)block.Extras[i]);
                    extra = Column.Of(names.Extra, ids);
                }
                else
                {
                    extra = Column.Of(names.Extra, block.Extras);
                }
                yield return new ColumnTable(block.Count,
                [
                    Column.Of(names.Row, block.Rows),
                    Column.Of(names.Column, block.Columns),
                    Column.Of(names.Score, block.Scores),
                    extra,
                    Column.Of("rank", block.Ranks),
                ]);
            }
        }
        finally
        {
            // The writer may stop early (an engine error, cancellation): let the block in flight finish before the
            // enumerator is disposed under it. Its own failure is secondary to the one already unwinding.
            try
            {
                await next;
            }
            catch (Exception e) when (e is OperationCanceledException or EngineException or OverflowException)
            {
            }
            source.Dispose();
        }
    }

    /// <summary>
    /// Runs <paramref name="estimateSql"/> (one row, one column: the pair updates the stage will need), logs it, records it as a
    /// fact, and stops the run before any pair is generated when it exceeds Engine:MaxPairs.
    /// </summary>
    public static async Task CheckBudgetAsync(IEngine engine, StageContext c, string stage, string what, string estimateSql, string remedy, CancellationToken ct)
    {
        var rows = await engine.QueryAsync(estimateSql, ct);
        var work = rows[0].Values.First() is { } v ? Convert.ToInt64(v, CultureInfo.InvariantCulture) : 0L;
        c.Facts[$"{stage}.work_estimate"] = work;
        c.Logger.LogInformation("Stage {Stage}: work estimate {Work:N0} {What} (budget Engine:MaxPairs = {Budget:N0})", stage, work, what, c.Settings.Engine.MaxPairs);
        if (work > c.Settings.Engine.MaxPairs)
        {
            throw new ConfigurationException(string.Create(CultureInfo.InvariantCulture,
                $"{stage} would need about {work:N0} {what}, more than Engine:MaxPairs = {c.Settings.Engine.MaxPairs:N0}. {remedy} Or raise Engine:MaxPairs if the machine can take it."));
        }
    }
}
