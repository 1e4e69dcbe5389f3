using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Recommend;

namespace SparkReco.Tests.Recommend;

/// <summary>One (user, item) affinity row as the CF stages read it.</summary>
public sealed record AffinityRow(string User, string Item, double Affinity, DateTime LastEventTime);

/// <summary>
/// Runs the CF stages on an in-process DuckDB whose <c>affinity</c> table is written straight from test rows,
/// so each stage is tested on exactly the input the reference sees.
/// </summary>
public sealed class CfHarness : IAsyncDisposable
{
    private CfHarness(DuckDbEngine engine, StageContext context)
    {
        Engine = engine;
        Context = context;
    }

    public DuckDbEngine Engine { get; }
    public StageContext Context { get; }
    public JobSettings Settings => Context.Settings;

    public static readonly DateTime AsOf = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public static JobSettings ReadSettings(IReadOnlyDictionary<string, string?> values) =>
        JobSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(values).Build());

    public static async Task<CfHarness> OpenAsync(IReadOnlyList<AffinityRow> affinity, IReadOnlyDictionary<string, string?> settings)
    {
        var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        var context = new StageContext(ReadSettings(settings), engine.Dialect, AsOf, AsOf, hasItems: false, hasFollows: false);
        var harness = new CfHarness(engine, context);
        await harness.CreateAffinityAsync("affinity", affinity);
        return harness;
    }

    public async Task CreateAffinityAsync(string table, IReadOnlyList<AffinityRow> rows)
    {
        var d = Engine.Dialect;
        var values = rows.Count == 0
            ? $"SELECT CAST(NULL AS VARCHAR) AS user_id, CAST(NULL AS VARCHAR) AS item_id, {d.Literal(0.0)} AS affinity, CAST(0 AS BIGINT) AS event_count, TIMESTAMP '2000-01-01' AS last_event_time WHERE 1 = 0"
            : "SELECT user_id, item_id, affinity, CAST(1 AS BIGINT) AS event_count, last_event_time FROM (VALUES\n" +
              string.Join(",\n", rows.Select(r => $"({d.Literal(r.User)}, {d.Literal(r.Item)}, {d.Literal(r.Affinity)}, {d.Timestamp(r.LastEventTime)})")) +
              ") AS t(user_id, item_id, affinity, last_event_time)";
        await Engine.CreateTableAsync(table, values, CancellationToken.None);
    }

    /// <summary>The CF stages from affinity to recommendations, in DAG order (EASE's too: cheap at these sizes, and it runs whatever Recommend:ItemModel says).</summary>
    public static IReadOnlyList<IStage> CfStages(TableScope? scope = null) =>
    [
        new CfAffinityStage(scope),
        new ItemPopularityStage(scope),
        new ItemSimilarityStage(scope),
        PublishedIdsStage.ItemSimilarity(scope),
        new EaseStage(scope),
        new UserNeighborsStage(scope),
        PublishedIdsStage.UserNeighbors(scope),
        new ItemBasedScoresStage(scope),
        new UserBasedScoresStage(scope),
        new RecommendationsStage(scope),
    ];

    public async Task RunAsync(IEnumerable<IStage> stages)
    {
        foreach (var stage in stages) await stage.RunAsync(Engine, Context, CancellationToken.None);
    }

    public Task RunCfAsync() => RunAsync(CfStages());

    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> ReadAsync(string table, string orderBy) =>
        await Engine.QueryAsync($"SELECT * FROM {Engine.Dialect.Quote(table)} ORDER BY {orderBy}", CancellationToken.None);

    /// <summary>A candidate table (rec_item_scores, rec_user_scores) with the original ids; the reason is an item or a user.</summary>
    public async Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> ReadCandidatesAsync(string table, string reasonDictionary)
    {
        var reasonKind = reasonDictionary == "cf_users" ? "user" : "item";
        return await Engine.QueryAsync(
            $"""
            SELECT u.user_id, i.item_id, s.score, r.{reasonKind}_id AS reason_id, s."rank"
            FROM "{table}" AS s
            JOIN cf_users AS u ON u.user_ix = s.user_ix
            JOIN cf_items AS i ON i.item_ix = s.item_ix
            JOIN "{reasonDictionary}" AS r ON r.{reasonKind}_ix = s.reason_ix
            ORDER BY u.user_id, s."rank"
            """, CancellationToken.None);
    }

    public ValueTask DisposeAsync() => Engine.DisposeAsync();

    public static string S(object? value) => Convert.ToString(value, CultureInfo.InvariantCulture)!;
    public static double D(object? value) => Convert.ToDouble(value, CultureInfo.InvariantCulture);
    public static long L(object? value) => Convert.ToInt64(value, CultureInfo.InvariantCulture);
}
