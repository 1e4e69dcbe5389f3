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
/// segments: k-means on standardised user_features. Fitted on the driver with ML.NET on a bounded,
/// deterministic sample (the first Segments:MaxSampleUsers users by md5(user_id)); k from config or
/// the best mean silhouette in [MinK, MaxK]; every user assigned in the engine by SQL to the nearest
/// centroid (squared Euclidean, ties to the lowest segment id), with that distance.
/// </summary>
public sealed class SegmentsStage : IStage
{
    public const string Table = "segments";

    public string Name => Table;
    public string Description => "one row per user: segment id (0-based) and Euclidean distance to its centroid in standardised feature space";
    public IReadOnlyList<string> Inputs => [UserFeaturesStage.Table];
    public bool IsOutput => true;
    public IReadOnlyList<string> OutputOrder => ["user_id"];
    public IReadOnlyList<string> UserIdColumns => ["user_id"];

    /// <summary>The last fit (driver side), for verification; null before the stage ran.</summary>
    public SegmentFit? LastFit { get; private set; }

    public bool IsEnabled(StageContext context) => context.Settings.Segments.Enabled;

    public IEnumerable<string> RenderSql(StageContext c)
    {
        var features = FeatureSpec.ForPlan(c).Columns.Select(f => f.Name).Where(f => c.Settings.Segments.FeatureGroups.Contains(FeatureSpec.GroupOf(f))).ToList();
        var stand = new Standardisation(features, features.Select(_ => 0.0).ToList(), features.Select(_ => 1.0).ToList());
        var assign = c.Dialect.Materialize(Name, RenderAssign(c, stand, [new double[features.Count], Enumerable.Repeat(1.0, features.Count).ToArray()])).ToList();
        assign[0] = "-- k-means is fitted on the sample on the driver (ML.NET); the centroids below are placeholders for the fitted ones\n" + assign[0];
        return [Standardisation.RenderStats(c, UserFeaturesStage.Table, features), RenderSample(c, stand), .. assign];
    }

    public static string RenderSample(StageContext c, Standardisation s) =>
        $"""
        -- k-means sample: the first users by md5(user_id), standardised features z0…
        SELECT
            user_id,
            {s.ZColumns(c)}
        FROM {c.Q(UserFeaturesStage.Table)}
        ORDER BY
            {c.Dialect.Md5("user_id")},
            user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Segments.MaxSampleUsers)}
        """;

    /// <summary>Nearest-centroid assignment of every user, with the centroids as literals.</summary>
    public static string RenderAssign(StageContext c, Standardisation s, IReadOnlyList<double[]> centroids)
    {
        var d = c.Dialect;
        var k = centroids.Count;
        string Squared(double[] centroid) => string.Join("\n            + ",
            centroid.Select((v, i) => $"(z{i} - {d.Literal(v)}) * (z{i} - {d.Literal(v)})"));
        var distances = string.Join(",\n        ", centroids.Select((centroid, j) => $"{Squared(centroid)} AS d{j}"));
        // CASE in id order with <= against every later distance: the first (lowest) id among ties wins.
        var cases = string.Join("\n        ", Enumerable.Range(0, k - 1).Select(j =>
            $"WHEN d{j} <= {(j + 1 == k - 1 ? $"d{k - 1}" : $"least({string.Join(", ", Enumerable.Range(j + 1, k - j - 1).Select(l => $"d{l}"))})")} THEN {j}"));
        var all = k == 1 ? "d0" : $"least({string.Join(", ", Enumerable.Range(0, k).Select(j => $"d{j}"))})";
        var segment = k == 1 ? "0" : $"CASE\n        {cases}\n        ELSE {k - 1}\n    END";
        return $"""
            -- segments: one row per user; nearest of {k} centroids (standardised space, squared Euclidean), ties to the lowest id.
            WITH {s.StandardisedCte(c, UserFeaturesStage.Table)},
            distances AS (
                SELECT
                    user_id,
                    {distances}
                FROM standardised
            )
            SELECT
                user_id,
                CAST({segment} AS BIGINT) AS segment,
                sqrt({all}) AS distance
            FROM distances
            """;
    }

    public async Task<long> RunAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var settings = c.Settings.Segments;
        var columns = (await engine.ColumnsAsync(UserFeaturesStage.Table, ct))
            .Where(name => name != "user_id" && settings.FeatureGroups.Contains(FeatureSpec.GroupOf(name))).ToList();
        if (columns.Count == 0)
            throw new Core.Errors.ConfigurationException($"setting 'Segments:FeatureGroups' ({string.Join(",", settings.FeatureGroups)}) selects no feature this run has (categories need items, social needs follows); add another group.");
        var stand = await Standardisation.ComputeAsync(engine, c, UserFeaturesStage.Table, columns, ct);

        var watch = Stopwatch.StartNew();
        var sample = await engine.QueryAsync(RenderSample(c, stand), ct);
        var users = sample.Select(r => Convert.ToString(r["user_id"], CultureInfo.InvariantCulture)!).ToList();
        var rows = sample.Select(stand.Vector).ToList();
        var pullSeconds = watch.Elapsed.TotalSeconds;
        if (rows.Count == 0)
            return await engine.CreateTableAsync(Name, $"SELECT {c.Dialect.CastString("NULL")} AS user_id, CAST(NULL AS BIGINT) AS segment, CAST(NULL AS DOUBLE) AS distance\nFROM {c.Q(UserFeaturesStage.Table)}\nWHERE 1 = 0", ct);

        watch.Restart();
        var silhouettes = new SortedDictionary<int, double>();
        KMeansModel model;
        string chosenBy;
        if (settings.K > 0)
        {
            model = KMeansModel.FitBest(rows, Math.Min(settings.K, rows.Count), settings.Seed, settings.MaxIterations, settings.Restarts);
            chosenBy = "configured (Segments:K)";
        }
        else
        {
            var silhouetteRows = rows.Take(settings.SilhouetteSampleUsers).ToList();
            KMeansModel? best = null;
            var bestScore = double.NegativeInfinity;
            for (var k = settings.MinK; k <= Math.Min(settings.MaxK, rows.Count - 1); k++)
            {
                var candidate = KMeansModel.FitBest(rows, k, settings.Seed, settings.MaxIterations, settings.Restarts);
                var score = ClusteringMetrics.MeanSilhouette(silhouetteRows, candidate.Predict(silhouetteRows));
                silhouettes[k] = Math.Round(score, 6);
                if (score > bestScore + 1e-9) (best, bestScore) = (candidate, score);
            }
            model = best ?? KMeansModel.Fit(rows, 1, settings.Seed, settings.MaxIterations);
            chosenBy = $"highest mean silhouette in [{settings.MinK}, {settings.MaxK}] on {silhouetteRows.Count} sample users";
        }
        var fitSeconds = watch.Elapsed.TotalSeconds;

        watch.Restart();
        var count = await engine.CreateTableAsync(Name, RenderAssign(c, stand, model.Centroids), ct);
        var assignSeconds = watch.Elapsed.TotalSeconds;

        LastFit = new SegmentFit(stand, model, users, rows, silhouettes, chosenBy);

        // Self-check on every run: the engine's assignment of the sample must be ML.NET's own prediction.
        var predicted = model.Predict(rows);
        var assigned = (await engine.QueryAsync(
            $"SELECT user_id, segment FROM {c.Q(Name)} ORDER BY {c.Dialect.Md5("user_id")}, user_id LIMIT {c.Dialect.Literal((long)rows.Count)}", ct))
            .Select(r => Convert.ToInt32(r["segment"], CultureInfo.InvariantCulture)).ToList();
        var agreement = (double)predicted.Where((p, i) => i < assigned.Count && assigned[i] == p).Count() / rows.Count;
        c.Facts["segments.k"] = model.K;
        // Timings go to the manifest, not metrics.json, so identical runs give identical metrics.
        c.Facts["segments.seconds_pull_sample"] = Math.Round(pullSeconds, 3);
        c.Facts["segments.seconds_fit"] = Math.Round(fitSeconds, 3);
        c.Facts["segments.seconds_assign_sql"] = Math.Round(assignSeconds, 3);
        c.Metrics["segments"] = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["k"] = model.K,
            ["k_chosen_by"] = chosenBy,
            ["silhouette_by_k"] = silhouettes.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
            ["sample_users"] = rows.Count,
            ["inertia"] = Math.Round(model.Inertia, 6),
            ["sql_vs_mlnet_sample_agreement"] = agreement,
            ["users"] = count,
            // No centroids and no standardisation: with them, the mean features of a segment that k-anonymity
            // withholds from segment_profiles could be reconstructed exactly. Published figures follow the
            // same suppression as the tables.
        };
        return count;
    }
}
