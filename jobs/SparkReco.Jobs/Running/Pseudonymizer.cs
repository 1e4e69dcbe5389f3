using SparkReco.Core.Engine;
using SparkReco.Core.Sql;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Running;

/// <summary>
/// Publishes tables with pseudonymous user ids: every column a stage declares in
/// <see cref="IStage.UserIdColumns"/> becomes HMAC-SHA256(key, id) in hex, and every id mentioned in a
/// declared text column (<see cref="IStage.UserIdMentions"/>) is replaced inside the text. The driver turns the key into
/// its two padded blocks (K ⊕ ipad, K ⊕ opad) and registers them as a one-row, session-only driver-made table
/// (<see cref="IEngine.WriteTableAsync"/>: DuckDB's appender into a TEMP table, Spark's LocalRelation), so neither the key
/// nor the pads appear in SQL text, plans or logs, and no engine needs parameter markers. SHA-256 and hex are the same in
/// DuckDB and Spark, so one key gives one pseudonym per user on every engine and run.
/// </summary>
public static class Pseudonymizer
{
    public const string KeyTable = "pseudonym_key";
    private const string InnerPad = "inner_pad";
    private const string OuterPad = "outer_pad";

    /// <summary>SHA-256's block size: keys are hashed down to or zero-padded up to it (RFC 2104).</summary>
    private const int BlockSize = 64;

    /// <summary>The key table's shape: the only thing about the key that plan shows.</summary>
    public static IReadOnlyList<(string Name, ColumnType Type)> KeySchema { get; } = [(InnerPad, ColumnType.Text), (OuterPad, ColumnType.Text)];

    /// <summary>What plan prints for the key's registration (its shape; the value never appears in SQL text, plans or logs).</summary>
    public static string DescribeKey(ISqlDialect d) =>
        RegisterStep.Describe(d, KeyTable, KeySchema, "one row: the key's padded blocks (K xor ipad, K xor opad) in hex, made on the driver from SPARKRECO_PSEUDONYM_KEY", sessionOnly: true);

    /// <summary>Stores the key's padded blocks for this run in the engine as a one-row table (rows, never SQL text).</summary>
    public static Task StoreKeyAsync(IEngine engine, string key, CancellationToken ct)
    {
        var (inner, outer) = Pads(key);
        return engine.WriteTableAsync(KeyTable, KeySchema, KeyRows(inner, outer), sessionOnly: true, ct);
    }

    /// <summary>K ⊕ ipad and K ⊕ opad in hex, K being the UTF-8 key (hashed when longer than a block) padded with zeros.</summary>
    public static (string Inner, string Outer) Pads(string key)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(key);
        if (bytes.Length > BlockSize) bytes = System.Security.Cryptography.SHA256.HashData(bytes);
        var block = new byte[BlockSize];
        bytes.CopyTo(block, 0);
        return (Convert.ToHexStringLower(block.Select(b => (byte)(b ^ 0x36)).ToArray()), Convert.ToHexStringLower(block.Select(b => (byte)(b ^ 0x5c)).ToArray()));
    }

    private static async IAsyncEnumerable<ColumnTable> KeyRows(string inner, string outer)
    {
        await Task.CompletedTask;
        yield return new ColumnTable(1, [Column.Of(InnerPad, new string?[] { inner }), Column.Of(OuterPad, new string?[] { outer })]);
    }

    /// <summary>The pseudonym of a string id expression (NULL stays NULL on every engine).</summary>
    public static string Pseudonym(ISqlDialect d, string idExpression) =>
        $"CASE WHEN {idExpression} IS NULL THEN NULL ELSE {d.HmacSha256Hex($"k.{d.Quote(InnerPad)}", $"k.{d.Quote(OuterPad)}", d.CastString(idExpression))} END";

    /// <summary>Column names that look like user ids; a published table with one that its stage did not declare is a bug, caught before anything is written.</summary>
    public static bool LooksLikeUserId(string column) =>
        column.Equals("user_id", StringComparison.OrdinalIgnoreCase)
        || column.EndsWith("_user_id", StringComparison.OrdinalIgnoreCase)
        || column.Equals("follower_id", StringComparison.OrdinalIgnoreCase)
        || column.Equals("followee_id", StringComparison.OrdinalIgnoreCase)
        || column.StartsWith("neighbor", StringComparison.OrdinalIgnoreCase)
        || column.StartsWith("neighbour", StringComparison.OrdinalIgnoreCase);

    /// <summary>The projection that publishes <paramref name="stage"/>'s table with pseudonyms, columns in their original order.</summary>
    public static string RenderProjection(ISqlDialect d, IStage stage, IReadOnlyList<string> columns)
    {
        var undeclared = columns.Where(col => LooksLikeUserId(col) && !stage.UserIdColumns.Contains(col, StringComparer.Ordinal)).ToList();
        if (undeclared.Count > 0)
            throw new InvalidOperationException(
                $"Stage {stage.Name} publishes column(s) {string.Join(", ", undeclared)} that look like user ids but are not in its UserIdColumns; declare them so pseudonymisation covers them.");
        foreach (var name in stage.UserIdColumns.Concat(stage.UserIdMentions.SelectMany(m => new[] { m.TextColumn, m.IdColumn })))
            if (!columns.Contains(name, StringComparer.Ordinal))
                throw new InvalidOperationException($"Stage {stage.Name} declares user-id column '{name}', which its table does not have.");

        var select = columns.Select(col =>
        {
            var q = "t." + d.Quote(col);
            if (stage.UserIdColumns.Contains(col, StringComparer.Ordinal)) return $"{Pseudonym(d, q)} AS {d.Quote(col)}";
            var mentions = stage.UserIdMentions.Where(m => m.TextColumn == col).ToList();
            if (mentions.Count == 0) return q;
            var text = q;
            foreach (var m in mentions)
            {
                var id = "t." + d.Quote(m.IdColumn);
                text = $"CASE WHEN {id} IS NULL OR {text} IS NULL THEN {text} ELSE replace({text}, {d.CastString(id)}, {Pseudonym(d, id)}) END";
            }
            return $"{text} AS {d.Quote(col)}";
        });
        return $"""
            -- {stage.Name}, as published: user ids replaced by HMAC-SHA256(key, id)
            SELECT
                {string.Join(",\n    ", select)}
            FROM {d.Quote(stage.Name)} AS t
            CROSS JOIN {d.Quote(KeyTable)} AS k
            """;
    }

    /// <summary>The table to write for <paramref name="stage"/>: a pseudonymised copy when it holds user ids, else the table itself.</summary>
    public static async Task<string> PrepareAsync(IEngine engine, IStage stage, CancellationToken ct)
    {
        var columns = await engine.ColumnsAsync(stage.Name, ct);
        if (stage.UserIdColumns.Count == 0 && stage.UserIdMentions.Count == 0 && !columns.Any(LooksLikeUserId)) return stage.Name;
        var published = "publish_" + stage.Name;
        await engine.CreateTableAsync(published, RenderProjection(engine.Dialect, stage, columns), ct);
        return published;
    }

    public static Task DropKeyAsync(IEngine engine, CancellationToken ct) =>
        engine.ExecuteAsync($"DROP TABLE IF EXISTS {engine.Dialect.Quote(KeyTable)}", ct);
}
