using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Jobs.Evaluation;
using SparkReco.Jobs.Stages;
using SparkReco.Jobs.Stages.Modelling;
using SparkReco.Jobs.Stages.Recommend;

namespace SparkReco.Jobs;

/// <summary>The job's DAG: stages ordered so every input is produced before it is read.</summary>
public sealed class JobPlan
{
    private JobPlan(IReadOnlyList<IStage> stages) => Stages = stages;

    public IReadOnlyList<IStage> Stages { get; }

    /// <summary>Every stage of the job, in the order they are listed (the DAG sorts them).</summary>
    public static IReadOnlyList<IStage> AllStages() =>
    [
        new CleanEventsStage(),
        new AffinityStage(),
        new CfAffinityStage(),
        new ItemPopularityStage(),
        new ItemSimilarityStage(),
        PublishedIdsStage.ItemSimilarity(),
        new EaseStage(),
        new UserNeighborsStage(),
        PublishedIdsStage.UserNeighbors(),
        new ItemBasedScoresStage(),
        new UserBasedScoresStage(),
        new RecommendationsStage(),
        .. EvaluationStages.All(),
        new UserFeaturesStage(),
        new SegmentsStage(),
        new SegmentProfilesStage(),
        new SegmentFeatureMeansStage(),
        new UserScoresStage(),
    ];

    public static JobPlan Default() => Create(AllStages());

    /// <summary>Orders stages topologically, keeping the listed order among independent ones (stable, so logs and plans read the same every run).</summary>
    public static JobPlan Create(IReadOnlyList<IStage> stages)
    {
        var produced = new HashSet<string>([SourceTables.Events, SourceTables.Items, SourceTables.Follows], StringComparer.Ordinal);
        var pending = stages.ToList();
        var ordered = new List<IStage>();
        while (pending.Count > 0)
        {
            var next = pending.FirstOrDefault(s => s.Inputs.All(produced.Contains))
                ?? throw new InvalidOperationException(
                    "The stage graph has a cycle or a missing producer: " +
                    string.Join("; ", pending.Select(s => $"{s.Name} needs {string.Join(", ", s.Inputs.Where(i => !produced.Contains(i)))}")));
            ordered.Add(next);
            produced.Add(next.Name);
            pending.Remove(next);
        }
        var duplicate = ordered.GroupBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"Two stages are named '{duplicate.Key}'.");
        return new JobPlan(ordered);
    }

    /// <summary>The plan cut down to <paramref name="stage"/> and the stages it reads from, directly or not.</summary>
    public JobPlan Through(string stage)
    {
        var needed = new HashSet<string>([stage], StringComparer.Ordinal);
        foreach (var s in Stages.Reverse())
            if (needed.Contains(s.Name)) needed.UnionWith(s.Inputs);
        return new JobPlan(Stages.Where(s => needed.Contains(s.Name)).ToList());
    }

    /// <summary>Stages that run with these settings; a stage whose input is disabled is disabled too.</summary>
    public IReadOnlyList<IStage> Enabled(StageContext context) => Walk(context).Enabled;

    /// <summary>Stages that do not run with these settings and inputs, each with the reason (for the run's log).</summary>
    public IReadOnlyList<(string Stage, string Reason)> Skipped(StageContext context) => Walk(context).Skipped;

    private (List<IStage> Enabled, List<(string Stage, string Reason)> Skipped) Walk(StageContext context)
    {
        var available = new HashSet<string>([SourceTables.Events], StringComparer.Ordinal);
        if (context.HasItems) available.Add(SourceTables.Items);
        if (context.HasFollows) available.Add(SourceTables.Follows);
        var enabled = new List<IStage>();
        var skipped = new List<(string, string)>();
        foreach (var stage in Stages)
        {
            // The stage's own reason first: it names the setting, which is what a reader of the log can change.
            if (!stage.IsEnabled(context))
            {
                skipped.Add((stage.Name, stage.DisabledReason(context)));
                continue;
            }
            var missing = stage.Inputs.FirstOrDefault(i => !available.Contains(i) && stage.Reads(i, context));
            if (missing is not null)
            {
                skipped.Add((stage.Name, MissingInput(missing)));
                continue;
            }
            enabled.Add(stage);
            available.Add(stage.Name);
        }
        return (enabled, skipped);
    }

    private static string MissingInput(string input) => input switch
    {
        SourceTables.Items => "no item metadata (Input:Items is not set)",
        SourceTables.Follows => "no follow graph (Input:Follows is not set)",
        _ => $"it reads {input}, which does not run",
    };

    /// <summary>Names a stage in an error that escaped it, so the message says where the run stopped.</summary>
    public static SparkRecoException AtStage(SparkRecoException e, string stage)
    {
        e.Stage ??= stage;
        return e;
    }
}
