using System.Diagnostics;
using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>What the segments stage fitted: kept so tests and the report can compare SQL with ML.NET.</summary>
public sealed record SegmentFit(
    Standardisation Standardisation,
    KMeansModel Model,
    IReadOnlyList<string> SampleUsers,
    IReadOnlyList<float[]> SampleRows,
    IReadOnlyDictionary<int, double> SilhouetteByK,
    string ChosenBy);

/// <summary>
/// segments: one segment per user, by Segments:Model — a mixture of multinomials over what users engage with
/// (<see cref="MixtureSegments"/>, the default), or k-means on standardised user_features, described here. Fitted on the driver with ML.NET on a bounded,
/// deterministic sample (the first Segments:MaxSampleUsers users by md5(user_id)); k from config or
/// the best mean silhouette in [MinK, MaxK]; the standardisation and the centroids are registered as rows
/// (<see cref="StandardisationTable"/>, <see cref="CentroidsTable"/>) and every user is assigned in the engine by SQL
/// to the nearest centroid (squared Euclidean, ties to the lowest segment id), with that distance.
/// </summary>
public sealed class SegmentsStage : StepStage
{
    public const string Table = "segments";
    public const string StandardisationTable = "segment_standardisation";
    public const string CentroidsTable = "segment_centroids";

    public override string Name => Table;
    public override string Description =>
        "one row per user: segment id (0-based) and probability (Segments:Model=mixture: the posterior of that segment) or distance (kmeans: Euclidean, to its centroid in standardised feature space)";
    public override IReadOnlyList<string> Inputs => [UserFeaturesStage.Table];
    public override bool IsOutput => true;
    public override IReadOnlyList<string> OutputOrder => ["user_id"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id"];

    /// <summary>The last fit (driver side), for verification; null before the stage ran.</summary>
    public SegmentFit? LastFit { get; private set; }

    public override bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;
    public override string DisabledReason(StageContext context) => "Segments:Enabled=false";

    /// <summary>The last mixture fit (driver side), for verification; null before the stage ran or with kmeans.</summary>
    public MixtureFit? LastMixtureFit { get; private set; }

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        if (c.Settings.Segments.Model == "mixture")
        {
            foreach (var step in new MixtureSegments(c.Results.Get<FeatureSpec>(), fit => LastMixtureFit = fit).Steps(c, result)) yield return step;
            yield break;
        }
        foreach (var step in KMeansSteps(c, result)) yield return step;
    }

    private IEnumerable<StageStep> KMeansSteps(StageContext c, StageRows result)
    {
        var settings = c.Settings.Segments;
        var columns = c.Results.Get<FeatureSpec>().Columns.Select(f => f.Name).Where(name => settings.FeatureGroups.Contains(FeatureSpec.GroupOf(name))).ToList();
        if (columns.Count == 0)
            throw new Core.Errors.ConfigurationException($"setting 'Segments:FeatureGroups' ({string.Join(",", settings.FeatureGroups)}) selects no feature this run has (categories need items, social needs follows); add another group.");
        var features = new StandardisedFeatures(columns, StandardisationTable);
        Standardisation? stand = null;
        yield return new QueryStep(Standardisation.RenderStats(c, UserFeaturesStage.Table, columns), rows => stand = Standardisation.FromStats(columns, rows[0]));
        yield return features.Register(() => stand!);

        List<string> users = [];
        List<float[]> sample = [];
        yield return new QueryStep(RenderSample(c, features), rows =>
        {
            users = rows.Select(r => Convert.ToString(r["user_id"], CultureInfo.InvariantCulture)!).ToList();
            sample = rows.Select(features.Vector).ToList();
        });

        KMeansModel? model = null;
        var silhouettes = new SortedDictionary<int, double>();
        var chosenBy = "";
        yield return new DriverStep("k-means (ML.NET) on the sample: k from Segments:K, else the highest mean silhouette in [MinK, MaxK]", () =>
        {
            // Timings go to the manifest, not metrics.json, so identical runs give identical metrics.
            var watch = Stopwatch.StartNew();
            (model, chosenBy) = Fit(settings, sample, silhouettes);
            c.Facts["segments.seconds_fit"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
        });
        yield return new RegisterStep(CentroidsTable, [("segment", ColumnType.Int64Bit), .. columns.Select((_, i) => ($"c{i}", ColumnType.Real))],
            "one row per fitted centroid: segment id and its coordinate c{i} per standardised feature (none when the sample is empty)",
            () => Centroids(model, columns.Count));

        yield return new MaterializeStep(Name, RenderAssign(c, features));

        // Self-check on every run: the engine's assignment of the sample must be ML.NET's own prediction.
        yield return new QueryStep(RenderSampleAssignments(c), rows =>
            {
                if (model is null) return;
                var assigned = rows.Select(r => Convert.ToInt32(r["segment"], CultureInfo.InvariantCulture)).ToList();
                var predicted = model.Predict(sample);
                var agreement = (double)predicted.Where((p, i) => i < assigned.Count && assigned[i] == p).Count() / sample.Count;
                LastFit = new SegmentFit(stand!, model, users, sample, silhouettes, chosenBy);
                c.Results.Set(new SegmentMetrics(
                    "kmeans",
                    model.K,
                    chosenBy,
                    silhouettes.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
                    IclByK: null,
                    sample.Count,
                    Math.Round(model.Inertia, 6),
                    LogLikelihood: null,
                    agreement,
                    result.Rows));
            });
    }

    /// <summary>The sample users' assigned segments, in sample order (the first Segments:MaxSampleUsers by md5(user_id)).</summary>
    public static string RenderSampleAssignments(StageContext c) =>
        $"""
        -- segments self-check: the sample users' assigned segments, in sample order
        SELECT
            user_id,
            segment
        FROM {c.Q(Table)}
        ORDER BY
            {c.Dialect.Md5("user_id")},
            user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Segments.MaxSampleUsers)}
        """;

    public static string RenderSample(StageContext c, StandardisedFeatures s) =>
        $"""
        -- k-means sample: the first users by md5(user_id), standardised features z0…
        SELECT
            f.user_id,
            {s.ZColumns(c, "f.")}
        FROM {c.Q(UserFeaturesStage.Table)} AS f
        {s.Join(c)}
        ORDER BY
            {c.Dialect.Md5("f.user_id")},
            f.user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Segments.MaxSampleUsers)}
        """;

    /// <summary>Nearest-centroid assignment of every user against the registered centroids.</summary>
    public static string RenderAssign(StageContext c, StandardisedFeatures s)
    {
        var squared = string.Join("\n            + ", s.Features.Select((_, i) => $"(s.z{i} - k.c{i}) * (s.z{i} - k.c{i})"));
        return $"""
            -- segments: one row per user; the nearest centroid of {CentroidsTable} (standardised space, squared Euclidean), ties to the lowest id.
            WITH {s.StandardisedCte(c, UserFeaturesStage.Table)},
            distances AS (
                SELECT
                    s.user_id,
                    k.segment,
                    {squared} AS squared
                FROM standardised AS s
                CROSS JOIN {c.Q(CentroidsTable)} AS k
            )
            SELECT
                user_id,
                {c.Dialect.ArgMax("segment", "-squared")} AS segment,
                sqrt(min(squared)) AS distance
            FROM distances
            GROUP BY
                user_id
            """;
    }

    /// <summary>k-means on the sample: the configured k, or the k in [MinK, MaxK] with the highest mean silhouette (ties: fewer segments).</summary>
    private static (KMeansModel? Model, string ChosenBy) Fit(Core.Configuration.SegmentSettings settings, List<float[]> rows, SortedDictionary<int, double> silhouettes)
    {
        if (rows.Count == 0) return (null, "");
        if (settings.K > 0)
            return (KMeansModel.FitBest(rows, Math.Min(settings.K, rows.Count), settings.Seed, settings.MaxIterations, settings.Restarts), "configured (Segments:K)");
        var silhouetteRows = rows.Take(settings.SilhouetteSampleUsers).ToList();
        var silhouette = new SilhouetteScorer(silhouetteRows);
        KMeansModel? best = null;
        var bestScore = double.NegativeInfinity;
        var ks = Enumerable.Range(settings.MinK, Math.Max(0, Math.Min(settings.MaxK, rows.Count - 1) - settings.MinK + 1)).ToArray();
        var candidates = KMeansModel.FitBestForEach(rows, ks, settings.Seed, settings.MaxIterations, settings.Restarts);
        for (var i = 0; i < ks.Length; i++)
        {
            var score = silhouette.Mean(candidates[i].Predict(silhouetteRows));
            silhouettes[ks[i]] = Math.Round(score, 6);
            if (score > bestScore + 1e-9) (best, bestScore) = (candidates[i], score);
        }
        return (best ?? KMeansModel.Fit(rows, 1, settings.Seed, settings.MaxIterations),
            $"highest mean silhouette in [{settings.MinK}, {settings.MaxK}] on {silhouetteRows.Count} sample users");
    }

    private static ColumnTable Centroids(KMeansModel? model, int features)
    {
        var centroids = model?.Centroids ?? [];
        return new ColumnTable(centroids.Count,
        [
            Column.Of("segment", Enumerable.Range(0, centroids.Count).Select(j => (long)j).ToArray()),
            .. Enumerable.Range(0, features).Select(i => Column.Of($"c{i}", centroids.Select(centroid => centroid[i]).ToArray())),
        ]);
    }
}
