using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Recommend;

/// <summary>An integer id column of an internal table and the published id column it becomes.</summary>
/// <param name="Dictionary">cf_users or cf_items (unscoped name).</param>
public sealed record IdColumn(string IxColumn, string PublishedColumn, string Dictionary);

/// <summary>
/// A published CF table: an internal table on dense integer ids (cf_item_similarity, cf_user_neighbors) with the
/// original ids joined back from the run's dictionaries; every other column as it is.
/// </summary>
public sealed class PublishedIdsStage(
    TableScope scope, string name, string source, string description, IReadOnlyList<IdColumn> ids, IReadOnlyList<string> columns,
    IReadOnlyList<string> outputOrder, IReadOnlyList<string> userIdColumns) : SqlStage
{
    public override string Name => scope[name];
    public override string Description => description;
    public override IReadOnlyList<string> Inputs => [scope[source], scope["cf_affinity"]];
    public override bool IsEnabled(StageContext context) => context.Settings.Recommend.Enabled;
    public override string DisabledReason(StageContext context) => "Recommend:Enabled=false";
    public override bool IsOutput => scope == TableScope.Main;
    public override IReadOnlyList<string> OutputOrder => outputOrder;
    public override IReadOnlyList<string> UserIdColumns => userIdColumns;

    /// <summary>item_similarity: the top-K similar items per item.</summary>
    public static PublishedIdsStage ItemSimilarity(TableScope? scope = null) => new(
        scope ?? TableScope.Main, "item_similarity", "cf_item_similarity",
        "one row per (item, similar item): top-K by the configured measure, with the raw co-occurrence count",
        [new("item_ix", "item_id", "cf_items"), new("similar_ix", "similar_item_id", "cf_items")],
        ["similarity", "cooccurrence", "rank"], ["item_id", "rank"], []);

    /// <summary>user_neighbors: the top-K neighbours per user.</summary>
    public static PublishedIdsStage UserNeighbors(TableScope? scope = null) => new(
        scope ?? TableScope.Main, "user_neighbors", "cf_user_neighbors",
        "one row per (user, neighbour): top-K by cosine of affinity vectors, with the number of shared items",
        [new("user_ix", "user_id", "cf_users"), new("neighbor_ix", "neighbor_id", "cf_users")],
        ["similarity", "overlap", "rank"], ["user_id", "rank"], ["user_id", "neighbor_id"]);

    public override string Render(StageContext c)
    {
        var lines = new List<string>();
        var joins = new List<string>();
        for (var n = 0; n < ids.Count; n++)
        {
            var id = ids[n];
            var kind = id.Dictionary == "cf_users" ? "user" : "item";
            lines.Add(id.PublishedColumn == kind + "_id" ? $"d{n}.{kind}_id" : $"d{n}.{kind}_id AS {id.PublishedColumn}");
            joins.Add($"""
                JOIN {c.Q(scope[id.Dictionary])} AS d{n}
                    ON d{n}.{kind}_ix = s.{id.IxColumn}
                """);
        }
        // Published ranks are BIGINT on every engine (Spark's row_number() is INT; DuckDB's is already BIGINT).
        lines.AddRange(columns.Select(column => column == "rank" ? $"CAST(s.{c.Q(column)} AS BIGINT) AS {c.Q(column)}" : $"s.{c.Q(column)}"));
        return $"""
            -- {Name}: one row per row of {scope[source]}, with the original ids in place of the dense numbers.
            SELECT
                {string.Join(",\n    ", lines)}
            FROM {c.Q(scope[source])} AS s
            {string.Join("\n", joins)}
            """;
    }
}
