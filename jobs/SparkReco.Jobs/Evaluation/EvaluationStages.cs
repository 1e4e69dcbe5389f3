using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Recommend;

namespace SparkReco.Jobs.Evaluation;

/// <summary>
/// The offline evaluation as ordinary DAG nodes: the split, the train model (the job's own stages under
/// <see cref="TableScope.Train"/> names), one recommendations table per evaluated source, the relevant pairs and the metrics.
/// They run when Evaluation:Mode is not none and the recommenders run.
/// </summary>
public static class EvaluationStages
{
    public static bool Runs(StageContext c) => c.Settings.Evaluation.Mode != "none" && c.Settings.Recommend.Enabled;

    /// <summary>Why the evaluation stages do not run (when <see cref="Runs"/> is false).</summary>
    public static string WhyNot(StageContext c) => c.Settings.Evaluation.Mode == "none"
        ? "Evaluation:Mode=none"
        : "Recommend:Enabled=false, and the evaluation measures the recommendations";

    public static IReadOnlyList<IStage> All() =>
    [
        new TrainEventsStage(),
        new TestEventsStage(),
        .. new IStage[]
        {
            new AffinityStage(TableScope.Train),
            new CfAffinityStage(TableScope.Train),
            new ItemPopularityStage(TableScope.Train),
            new ItemSimilarityStage(TableScope.Train),
            new EaseStage(TableScope.Train),
            new UserNeighborsStage(TableScope.Train),
            new ItemBasedScoresStage(TableScope.Train),
            new UserBasedScoresStage(TableScope.Train),
        }.Select(stage => new TrainModelStage(stage, variant: null)),
        .. EvaluationStage.Sources.Select(source => new TrainModelStage(null, source)),
        new RelevantStage(),
        new EvaluationStage(),
    ];

    /// <summary>
    /// Whether <paramref name="source"/> is evaluated: the item and user sources only when the blend uses them (a source with
    /// weight 0 is not computed, in the train model either); popularity and the configured blend always.
    /// </summary>
    public static bool Evaluates(StageContext c, string source) =>
        source is not ("item" or "user") || c.Settings.Recommend.Blends(source);

    /// <summary>The variants evaluated: popularity only, item only, user only, and the configured blend; lists of K.</summary>
    public static RecommendVariant Variant(StageContext c, string source)
    {
        var k = c.Settings.Evaluation.K;
        var r = c.Settings.Recommend;
        return source switch
        {
            "popular" => new RecommendVariant("popular", 0, 0, k, Backfill: true),
            "item" => new RecommendVariant("item", 1, 0, k, r.Backfill),
            "user" => new RecommendVariant("user", 0, 1, k, r.Backfill),
            "blend" => new RecommendVariant("blend", r.ItemWeight, r.UserWeight, k, r.Backfill),
            _ => throw new ArgumentOutOfRangeException(nameof(source), source, "Unknown evaluated source."),
        };
    }

    /// <summary>The context the train model renders in: temporal mode builds it as of the cutoff, so the decay ends there.</summary>
    public static StageContext ModelContext(StageContext c) =>
        c.Settings.Evaluation.Mode == "temporal" ? c.WithAsOf(EvaluationStage.Cutoff(c)) : c;
}

/// <summary>eval_train_clean_events: the clean events the train model learns from (all but the test side).</summary>
public sealed class TrainEventsStage : StepStage
{
    public override string Name => TableScope.Train["clean_events"];
    public override string Description => "the clean events of the train side of the evaluation split";
    public override IReadOnlyList<string> Inputs => ["clean_events"];
    public override bool IsEnabled(StageContext context) => EvaluationStages.Runs(context);
    public override string DisabledReason(StageContext context) => EvaluationStages.WhyNot(context);

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        yield return new MaterializeStep(Name, EvaluationStage.RenderTrainEvents(c));
    }
}

/// <summary>eval_test_events: the held-out (user_id, item_id) pairs, from the split or from Evaluation:TestEvents.</summary>
public sealed class TestEventsStage : StepStage
{
    public override string Name => EvaluationStage.TestEvents;
    public override string Description => "one row per held-out (user_id, item_id)";
    public override IReadOnlyList<string> Inputs => ["clean_events"];
    public override bool IsEnabled(StageContext context) => EvaluationStages.Runs(context);
    public override string DisabledReason(StageContext context) => EvaluationStages.WhyNot(context);

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var e = c.Settings.Evaluation;
        var split = EvaluationStage.SplitsCleanEvents(c);
        if (!split)
        {
            yield return new DriverStep("check that Evaluation:TestEvents exists", () =>
            {
                if (!File.Exists(e.TestEvents) && !Directory.Exists(e.TestEvents))
                    throw new InputDataException($"Evaluation:TestEvents '{e.TestEvents}' does not exist; give the held-out events as a Parquet file or folder.");
            });
            foreach (var statement in EvaluationStage.RenderTestView(c)) yield return new ExecuteStep(statement);
        }
        yield return new MaterializeStep(Name, split ? EvaluationStage.RenderSplitTestEvents(c) : EvaluationStage.RenderFileTestEvents(c), rows =>
        {
            if (rows > 0) return;
            throw new InputDataException(EvaluationStage.IsRandom(c)
                ? "Evaluation: the random split held out no (user, item) pair; raise Evaluation:TestFraction."
                : split
                ? $"Evaluation: no events at or after the cutoff {EvaluationStage.Cutoff(c):yyyy-MM-ddTHH:mm:ssZ} (as_of − {e.TestDays} days); raise Evaluation:TestDays or set Affinity:AsOf."
                : $"Evaluation:TestEvents '{e.TestEvents}' has no usable rows (non-null user and item, known event type).");
        });
    }
}

/// <summary>eval_relevant: the held-out pairs that count, of users the train model knows.</summary>
public sealed class RelevantStage : SqlStage
{
    public override string Name => EvaluationStage.Relevant;
    public override string Description => "one row per held-out (user_id, item_id) of every test user, with or without training history";
    public override IReadOnlyList<string> Inputs => [EvaluationStage.TestEvents, TableScope.Train["affinity"]];
    public override bool IsEnabled(StageContext context) => EvaluationStages.Runs(context);
    public override string DisabledReason(StageContext context) => EvaluationStages.WhyNot(context);
    public override string Render(StageContext context) => EvaluationStage.RenderRelevant(context, TableScope.Train);
}

/// <summary>
/// A stage of the train model: one of the job's own stages under <see cref="TableScope.Train"/> names (or the recommendations
/// of one evaluated source), run in <see cref="EvaluationStages.ModelContext"/>. Never published.
/// </summary>
public sealed class TrainModelStage : IStage
{
    private readonly IStage _inner;
    private readonly string? _source;

    /// <param name="inner">The job's stage in the train scope; null for the recommendations of <paramref name="variant"/>.</param>
    /// <param name="variant">The evaluated source whose recommendations this stage makes (<see cref="EvaluationStage.Sources"/>).</param>
    public TrainModelStage(IStage? inner, string? variant)
    {
        _source = variant;
        // The variant's settings come from the context, so the stage is built again when it renders; this instance names it.
        _inner = inner ?? new RecommendationsStage(TableScope.Train, new RecommendVariant(variant!, 0, 0, 0, false));
    }

    public string Name => _inner.Name;
    public string Description => _source is null ? $"evaluation train model: {_inner.Description}" : $"evaluation: recommendations of source {_source} (lists of Evaluation:K)";
    public IReadOnlyList<string> Inputs => _inner.Inputs;
    public bool IsOutput => false;
    public IReadOnlyList<string> OutputOrder => [];
    public bool IsEnabled(StageContext context) =>
        EvaluationStages.Runs(context) && (_source is null || EvaluationStages.Evaluates(context, _source)) && Inner(context).IsEnabled(EvaluationStages.ModelContext(context));
    public string DisabledReason(StageContext context) =>
        !EvaluationStages.Runs(context) ? EvaluationStages.WhyNot(context)
        : _source is not null && !EvaluationStages.Evaluates(context, _source)
        ? RecommendSettings.NotBlended(_source)
        : Inner(context).DisabledReason(EvaluationStages.ModelContext(context));
    public bool Reads(string input, StageContext context) => Inner(context).Reads(input, EvaluationStages.ModelContext(context));

    public IEnumerable<string> RenderSql(StageContext context) => Inner(context).RenderSql(EvaluationStages.ModelContext(context));

    public Task<long> RunAsync(Core.Engine.IEngine engine, StageContext context, CancellationToken cancellationToken) =>
        Inner(context).RunAsync(engine, EvaluationStages.ModelContext(context), cancellationToken);

    private IStage Inner(StageContext c) =>
        _source is null ? _inner : new RecommendationsStage(TableScope.Train, EvaluationStages.Variant(c, _source));
}
