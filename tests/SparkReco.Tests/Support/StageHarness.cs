using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Input;
using SparkReco.Jobs.Stages;

namespace SparkReco.Tests.Support;

/// <summary>Runs chosen stages on an embedded engine over Parquet inputs, without publishing, so tests can inspect tables and fitted models.</summary>
public sealed class StageHarness : IAsyncDisposable
{
    private StageHarness(IEngine engine, StageContext context)
    {
        Engine = engine;
        Context = context;
    }

    public IEngine Engine { get; }
    public StageContext Context { get; }

    public static async Task<StageHarness> OpenAsync(IReadOnlyDictionary<string, string?> settings, CancellationToken ct = default)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var job = JobSettings.Read(configuration);
        var catalog = await LocalInputInspector.Instance.InspectAsync(job.Input, ct);
        var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, ct);
        foreach (var view in SourceTables.Render(catalog, job.Input.Columns, engine.Dialect))
            await engine.ExecuteAsync(view, ct);
        var context = new StageContext(job, engine.Dialect, job.Affinity.AsOf ?? TestParquet.T0, DateTime.UtcNow, catalog.Items is not null, catalog.Follows is not null);
        return new StageHarness(engine, context);
    }

    public async Task RunAsync(params IStage[] stages)
    {
        foreach (var stage in stages) await stage.RunAsync(Engine, Context, CancellationToken.None);
    }

    public Task<IReadOnlyList<IReadOnlyDictionary<string, object?>>> QueryAsync(string sql) => Engine.QueryAsync(sql, CancellationToken.None);

    public ValueTask DisposeAsync() => Engine.DisposeAsync();
}
