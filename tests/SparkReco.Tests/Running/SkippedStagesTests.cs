using Microsoft.Extensions.Configuration;
using SparkReco.Core.Configuration;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Jobs;

namespace SparkReco.Tests.Running;

/// <summary>The run logs <see cref="JobPlan.Skipped"/>: it must account for exactly the stages <see cref="JobPlan.Enabled"/> leaves out.</summary>
public sealed class SkippedStagesTests
{
    private static StageContext Context(bool hasItems, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)))
            .Build();
        return new StageContext(JobSettings.Read(configuration), DuckDbDialect.Instance, DateTime.UnixEpoch, DateTime.UnixEpoch, hasItems, hasFollows: false);
    }

    public static TheoryData<bool, string, string> Cases => new()
    {
        { true, "Evaluation:Mode", "temporal" },
        { false, "Evaluation:Mode", "temporal" },
        { true, "Recommend:Enabled", "false" },
        { false, "Segments:Enabled", "false" },
        { true, "Scores:Enabled", "false" },
        { true, "Recommend:UserWeight", "0" },
        { false, "Recommend:ItemWeight", "0" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_stage_of_the_plan_either_runs_or_is_skipped_with_a_reason(bool hasItems, string key, string value)
    {
        var plan = JobPlan.Default();
        var context = Context(hasItems, (key, value));
        var enabled = plan.Enabled(context).Select(s => s.Name).ToList();
        var skipped = plan.Skipped(context);

        Assert.Empty(enabled.Intersect(skipped.Select(s => s.Stage)));
        Assert.Equal(plan.Stages.Select(s => s.Name).Order(StringComparer.Ordinal), enabled.Concat(skipped.Select(s => s.Stage)).Order(StringComparer.Ordinal));
        Assert.All(skipped, s => Assert.False(string.IsNullOrWhiteSpace(s.Reason), s.Stage));
    }

    [Fact]
    public void Reasons_name_the_setting_or_the_missing_input()
    {
        var plan = JobPlan.Default();
        var noItems = plan.Skipped(Context(hasItems: false)).ToDictionary(s => s.Stage, s => s.Reason);
        Assert.StartsWith("no item metadata (Input:Items is not set)", noItems["user_scores"], StringComparison.Ordinal);

        var noRecommend = plan.Skipped(Context(hasItems: true, ("Recommend:Enabled", "false"), ("Evaluation:Mode", "none"))).ToDictionary(s => s.Stage, s => s.Reason);
        Assert.Equal("Recommend:Enabled=false", noRecommend["recommendations"]);
        Assert.Equal("Evaluation:Mode=none", noRecommend["eval_metrics"]);
        Assert.DoesNotContain("segments", noRecommend.Keys);

        var noSegments = plan.Skipped(Context(hasItems: false, ("Segments:Enabled", "false"))).ToDictionary(s => s.Stage, s => s.Reason);
        Assert.Equal("Segments:Enabled=false", noSegments["segments"]);
        Assert.Contains("user_scores does not run", noSegments["user_features"], StringComparison.Ordinal);

        // A source whose blend weight is 0 is not computed, in the job or its evaluation; the blend and the published similarity tables still run.
        var itemOnly = Context(hasItems: true, ("Recommend:UserWeight", "0"), ("Evaluation:Mode", "temporal"));
        var noUserSource = plan.Skipped(itemOnly).ToDictionary(s => s.Stage, s => s.Reason);
        Assert.Equal(["eval_recommendations_user", "eval_train_rec_user_scores", "rec_user_scores"], noUserSource.Keys.Where(k => k.Contains("user", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.StartsWith("Recommend:UserWeight=0", noUserSource["rec_user_scores"], StringComparison.Ordinal);
        Assert.StartsWith("Recommend:UserWeight=0", noUserSource["eval_recommendations_user"], StringComparison.Ordinal);
        var running = plan.Enabled(itemOnly).Select(s => s.Name).ToList();
        Assert.Contains("recommendations", running);
        Assert.Contains("user_neighbors", running);
        Assert.Contains("eval_metrics", running);
    }
}
