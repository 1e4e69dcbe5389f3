using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Sql;

namespace SparkReco.Core.Stages;

/// <summary>
/// A named step of the job: reads named tables, produces one table. Most stages are one SQL
/// statement (<see cref="SqlStage"/>); stages with several steps (samples pulled to the driver, fits,
/// driver-made tables registered as rows) are <see cref="StepStage"/>s, whose <see cref="RenderSql"/> and
/// <see cref="RunAsync"/> walk the same steps.
/// </summary>
public interface IStage
{
    string Name { get; }

    /// <summary>One line for <c>plan</c> and logs: what the table holds and its grain.</summary>
    string Description { get; }

    /// <summary>Tables this stage reads; the DAG orders stages by these.</summary>
    IReadOnlyList<string> Inputs { get; }

    /// <summary>Whether the produced table is published; false for intermediate tables.</summary>
    bool IsOutput { get; }

    /// <summary>Columns that order the published rows (deterministic files for identical reruns).</summary>
    IReadOnlyList<string> OutputOrder { get; }

    /// <summary>Whether the stage runs with these settings and inputs (e.g. evaluation only when configured).</summary>
    bool IsEnabled(StageContext context) => true;

    /// <summary>Why <see cref="IsEnabled"/> is false with these settings and inputs, for the run's log (e.g. "Recommend:Enabled=false").</summary>
    string DisabledReason(StageContext context) => "turned off by its settings";

    /// <summary>
    /// Whether the stage reads <paramref name="input"/> (one of <see cref="Inputs"/>) with these settings. An input it does not
    /// read may be a stage that does not run (e.g. the scores of a recommender source whose blend weight is 0) without
    /// disabling this one; <see cref="Inputs"/> still lists it, so the stage waits for it whenever it does run.
    /// </summary>
    bool Reads(string input, StageContext context) => true;

    /// <summary>
    /// Whether the stage runs an in-process kernel on <paramref name="engine"/>: it uses every core and holds large arrays,
    /// so the runner never runs two such stages at the same time (overlap pays beside SQL and model fits, not beside another kernel).
    /// </summary>
    bool RunsKernel(IEngine engine, StageContext context) => false;

    /// <summary>
    /// Published columns that hold user ids (e.g. <c>user_id</c>, a neighbour's id). With
    /// <c>Privacy:PseudonymizeIds</c> on, the runner publishes each as HMAC-SHA256(key, id) in hex.
    /// </summary>
    IReadOnlyList<string> UserIdColumns => [];

    /// <summary>Published text columns that mention a user id held in another column (e.g. a <c>reason</c> naming a neighbour): the mention is replaced by its pseudonym too.</summary>
    IReadOnlyList<UserIdMention> UserIdMentions => [];

    /// <summary>The SQL the stage runs, as it would be pasted into a SQL console.</summary>
    IEnumerable<string> RenderSql(StageContext context);

    /// <summary>Runs the stage and returns the produced table's row count.</summary>
    Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken);
}

/// <summary>Text column <paramref name="TextColumn"/> may contain the user id held in <paramref name="IdColumn"/> of the same row.</summary>
public sealed record UserIdMention(string TextColumn, string IdColumn);

/// <summary>A stage that is one <c>SELECT</c> materialised as its output table.</summary>
public abstract class SqlStage : IStage
{
    public abstract string Name { get; }
    public abstract string Description { get; }
    public abstract IReadOnlyList<string> Inputs { get; }
    public virtual bool IsOutput => false;
    public virtual IReadOnlyList<string> OutputOrder => [];
    public virtual bool IsEnabled(StageContext context) => true;
    public virtual string DisabledReason(StageContext context) => "turned off by its settings";
    public virtual bool Reads(string input, StageContext context) => true;
    public virtual IReadOnlyList<string> UserIdColumns => [];
    public virtual IReadOnlyList<UserIdMention> UserIdMentions => [];

    /// <summary>The <c>SELECT</c> that defines the stage's table.</summary>
    public abstract string Render(StageContext context);

    public IEnumerable<string> RenderSql(StageContext context) => context.Dialect.Materialize(Name, Render(context));

    public Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken) =>
        engine.CreateTableAsync(Name, Render(context), cancellationToken);
}

/// <summary>What a stage needs to render its SQL: settings, dialect and facts resolved before the run.</summary>
public sealed class StageContext
{
    public StageContext(JobSettings settings, ISqlDialect dialect, DateTime asOf, DateTime startedAt, bool hasItems, bool hasFollows)
    {
        Settings = settings;
        Dialect = dialect;
        AsOf = asOf;
        StartedAt = startedAt;
        HasItems = hasItems;
        HasFollows = hasFollows;
    }

    /// <summary>
    /// The same run seen from another reference time (the evaluation's train model is built as of its cutoff): everything
    /// stages hand on (results, facts, metrics, in-process tables) is shared, so nodes of either time read each other's.
    /// </summary>
    public StageContext WithAsOf(DateTime asOf) =>
        asOf == AsOf ? this : new StageContext(Settings, Dialect, asOf, StartedAt, HasItems, HasFollows, this);

    private StageContext(JobSettings settings, ISqlDialect dialect, DateTime asOf, DateTime startedAt, bool hasItems, bool hasFollows, StageContext shared)
        : this(settings, dialect, asOf, startedAt, hasItems, hasFollows)
    {
        Logger = shared.Logger;
        InputChecks = shared.InputChecks;
        Results = shared.Results;
        InProcessTables = shared.InProcessTables;
        Facts = shared.Facts;
    }

    public JobSettings Settings { get; }
    public ISqlDialect Dialect { get; }

    /// <summary>The run's reference time (config, else the latest event time).</summary>
    public DateTime AsOf { get; }

    /// <summary>When the run started (UTC): events later than this are in the future, hence invalid.</summary>
    public DateTime StartedAt { get; }

    public bool HasItems { get; }
    public bool HasFollows { get; }

    /// <summary>
    /// Objects a stage hands to later stages of the same run in this process, by table name (e.g. a kernel's output as
    /// arrays, so the next kernel need not read it back from the engine). Only ever a copy of the named table.
    /// </summary>
    public IDictionary<string, object> InProcessTables { get; } = new System.Collections.Concurrent.ConcurrentDictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Typed results stages hand to later stages and to report sections (the feature set, a fit, the evaluation's figures).</summary>
    public StageResults Results { get; } = new();

    /// <summary>Where stages log what they decide (work estimates, kernel or SQL); the runner sets the run's logger.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Row-check counts per reason, computed once before any stage runs (input validation).</summary>
    public IReadOnlyDictionary<string, long>? InputChecks { get; set; }

    /// <summary>
    /// Counters for the manifest that no later stage or report section reads by type (e.g. a stage's timings, the CF stages'
    /// pair counts), by dotted key. What a report section reads is a typed result in <see cref="Results"/>. Stages running at the
    /// same time write it, so it is a concurrent map: readers sort the keys.
    /// </summary>
    public IDictionary<string, object> Facts { get; } = new System.Collections.Concurrent.ConcurrentDictionary<string, object>(StringComparer.Ordinal);

    /// <summary>Shorthand for <c>Dialect.Quote</c>, which stage SQL uses constantly.</summary>
    public string Q(string identifier) => Dialect.Quote(identifier);
}

/// <summary>Typed results of a run, one object per type: what a stage produced for later stages and for the report.</summary>
public sealed class StageResults
{
    // Stages running at the same time set and read results.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Type, object> _byType = [];

    public void Set<T>(T value) where T : class => _byType[typeof(T)] = value ?? throw new ArgumentNullException(nameof(value));

    public T? Find<T>() where T : class => _byType.TryGetValue(typeof(T), out var value) ? (T)value : null;

    public T Get<T>() where T : class =>
        Find<T>() ?? throw new InvalidOperationException($"No {typeof(T).Name} yet: the stage that produces it has not run.");

    /// <summary>Every result, for the manifest (<see cref="IManifestFacts"/>).</summary>
    public IEnumerable<object> All => _byType.Values;
}

/// <summary>A typed result that also lists itself among the manifest's facts (dotted keys, e.g. <c>clean_events.rows_in</c>).</summary>
public interface IManifestFacts
{
    IEnumerable<KeyValuePair<string, object>> ManifestFacts();
}
