using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>What the mixture fitted: kept so tests can compare the engine's assignment with the driver's.</summary>
public sealed record MixtureFit(MultinomialMixture Model, IReadOnlyList<string> SampleUsers, IReadOnlyList<double[]> SampleRows,
    IReadOnlyDictionary<int, double> IclByK, string ChosenBy);

/// <summary>
/// Segments:Model=mixture. Every user becomes counts: its events per item category (the feature categories plus one
/// "other" column for the rest and uncategorised items) and, as a second block, per event type — both recovered exactly
/// from user_features (round(events · share), events = round(exp(log_events) − 1)). The driver fits a
/// <see cref="MultinomialMixture"/> on the sample, k by the lowest ICL (BIC plus twice the posterior entropy; no segment both tiny and blurred); the engine assigns every user to the segment with
/// the highest ln π_k + Σ x_d ln θ_kd (ties to the lowest id) from the registered <see cref="ModelTable"/> and publishes the
/// posterior probability of that segment.
/// </summary>
internal sealed class MixtureSegments
{
    public const string ModelTable = "segment_mixture";

    /// <summary>Per count column: the share feature it is recovered from, or null for "other categories".</summary>
    private readonly List<string?> _counts = [];
    private readonly List<int> _blocks = [];

    private readonly Action<MixtureFit> _fitted;

    /// <param name="fitted">Hears the fit once the engine's assignment has been checked against it.</param>
    public MixtureSegments(FeatureSpec spec, Action<MixtureFit> fitted)
    {
        _fitted = fitted;
        if (spec.WithItems && spec.Categories.Count > 0)
        {
            for (var j = 0; j < spec.Categories.Count; j++) _counts.Add(FeatureSpec.CategoryColumn(j));
            _counts.Add(null);
            _blocks.Add(spec.Categories.Count + 1);
        }
        for (var i = 0; i < spec.EventTypes.Count; i++) _counts.Add(FeatureSpec.EventColumn(i, "share"));
        _blocks.Add(spec.EventTypes.Count);
        Categories = spec.WithItems ? spec.Categories.Count : 0;
    }

    private int Categories { get; }

    public IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var settings = c.Settings.Segments;
        List<string> users = [];
        List<double[]> sample = [];
        yield return new QueryStep(RenderSample(c), rows =>
        {
            users = rows.Select(r => Convert.ToString(r["user_id"], CultureInfo.InvariantCulture)!).ToList();
            sample = rows.Select(r => Enumerable.Range(0, _counts.Count).Select(d => Convert.ToDouble(r[$"x{d}"], CultureInfo.InvariantCulture)).ToArray()).ToList();
        });

        MultinomialMixture? model = null;
        var icls = new SortedDictionary<int, double>();
        var chosenBy = "";
        yield return new DriverStep("mixture of multinomials on the sample: k from Segments:K, else the lowest ICL in [MinK, MaxK]", () =>
        {
            var watch = Stopwatch.StartNew();
            (model, chosenBy) = Fit(settings, sample, icls);
            if (model is { K: 1 } && settings.K != 1)
                c.Logger.LogWarning("Stage segments: {Reason}", chosenBy);
            c.Facts["segments.seconds_fit"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
        });
        yield return new RegisterStep(ModelTable,
            [("segment", ColumnType.Int64Bit), ("log_prior", ColumnType.Real), .. _counts.Select((_, d) => ($"w{d}", ColumnType.Real))],
            "one row per segment: ln of its prior and ln θ per count column w{d} (none when the sample is empty)",
            () => ModelRows(model));

        yield return new MaterializeStep(SegmentsStage.Table, RenderAssign(c));

        // Self-check on every run: the engine's assignment of the sample must be the driver's own prediction.
        yield return new QueryStep(SegmentsStage.RenderSampleAssignments(c), rows =>
        {
            if (model is null) return;
            var assigned = rows.Select(r => Convert.ToInt32(r["segment"], CultureInfo.InvariantCulture)).ToList();
            var predicted = model.Predict(sample);
            var agreement = (double)predicted.Where((p, i) => i < assigned.Count && assigned[i] == p).Count() / sample.Count;
            _fitted(new MixtureFit(model, users, sample, icls, chosenBy));
            c.Results.Set(new SegmentMetrics(
                "mixture",
                model.K,
                chosenBy,
                SilhouetteByK: null,
                icls.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
                sample.Count,
                Inertia: null,
                Math.Round(model.LogLikelihood, 3),
                agreement,
                result.Rows));
        });
    }

    private (MultinomialMixture? Model, string ChosenBy) Fit(Core.Configuration.SegmentSettings settings, List<double[]> rows, SortedDictionary<int, double> icls)
    {
        if (rows.Count == 0) return (null, "");
        // One event type and no item categories: every user's counts say the same thing, so no k could tell users apart.
        if (_blocks.All(size => size == 1))
            return (MultinomialMixture.FitBestForEach(rows, _blocks, [1], settings.Seed, settings.MaxIterations, 1)[0],
                "one segment: the events have no item categories and a single event type, so there is nothing to group users by (Segments:Model=kmeans clusters on activity instead)");
        if (settings.K > 0)
            return (MultinomialMixture.FitBestForEach(rows, _blocks, [Math.Min(settings.K, rows.Count)], settings.Seed, settings.MaxIterations, settings.Restarts)[0],
                "configured (Segments:K)");
        var ks = Enumerable.Range(settings.MinK, Math.Max(1, Math.Min(settings.MaxK, rows.Count) - settings.MinK + 1)).ToArray();
        var candidates = MultinomialMixture.FitBestForEach(rows, _blocks, ks, settings.Seed, settings.MaxIterations, settings.Restarts);
        var best = candidates[0];
        var smallest = Math.Log(settings.MinSegmentShare);
        for (var i = 0; i < ks.Length; i++)
        {
            var icl = candidates[i].Icl(rows.Count);
            icls[ks[i]] = Math.Round(icl, 3);
            if (icl < best.Icl(rows.Count) - 1e-9 && Usable(candidates[i], smallest)) best = candidates[i];
        }
        return (best, $"lowest ICL (BIC + 2 · posterior entropy) in [{settings.MinK}, {settings.MaxK}] on {rows.Count} sample users, every segment at least {settings.MinSegmentShare:P1} of them");
    }

    /// <summary>Every segment is either at least Segments:MinSegmentShare of the sample, or clearly apart (its members' mean posterior ≥ 0.99, e.g. a handful of bots).</summary>
    private static bool Usable(MultinomialMixture model, double smallestLogPrior) =>
        Enumerable.Range(0, model.K).All(j => model.LogPrior[j] >= smallestLogPrior || model.Confidence[j] >= 0.99);

    private ColumnTable ModelRows(MultinomialMixture? model)
    {
        var k = model?.K ?? 0;
        return new ColumnTable(k,
        [
            Column.Of("segment", Enumerable.Range(0, k).Select(j => (long)j).ToArray()),
            Column.Of("log_prior", Enumerable.Range(0, k).Select(j => model!.LogPrior[j]).ToArray()),
            .. Enumerable.Range(0, _counts.Count).Select(d => Column.Of($"w{d}", Enumerable.Range(0, k).Select(j => model!.LogTheta[j][d]).ToArray())),
        ]);
    }

    /// <summary>Per user: n (events) and the count columns x0… (categories, other, event types).</summary>
    private string RenderCounts(StageContext c)
    {
        var d = c.Dialect;
        string Count(string share) => $"round(n * {c.Q(share)})";
        var categorised = string.Join(" + ", _counts.Take(Categories).Select(share => Count(share!)));
        var columns = _counts.Select((share, i) => (share is null ? $"n - ({categorised})" : Count(share)) + $" AS x{i}");
        return $"""
            SELECT
                user_id,
                {string.Join(",\n    ", columns)}
            FROM (
                SELECT
                    *,
                    round(exp({c.Q("log_events")}) - {d.Literal(1.0)}) AS n
                FROM {c.Q(UserFeaturesStage.Table)}
            ) AS f
            """;
    }

    private string RenderSample(StageContext c) =>
        $"""
        -- mixture sample: the first users by md5(user_id), their counts per category (x0…x{Categories}: the feature categories, then the rest) and per event type
        SELECT *
        FROM (
        {FeatureSpec.Indent(RenderCounts(c), 1)}
        ) AS counts
        ORDER BY
            {c.Dialect.Md5("user_id")},
            user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Segments.MaxSampleUsers)}
        """;

    private string RenderAssign(StageContext c)
    {
        var d = c.Dialect;
        var score = string.Join("\n            + ", _counts.Select((_, i) => $"x.x{i} * m.w{i}"));
        return $"""
            -- segments: one row per user; the segment of {ModelTable} with the highest ln prior + Σ count · ln θ (ties to the lowest id), and its posterior probability (an exact sum, so reruns agree to the bit).
            WITH counts AS (
            {FeatureSpec.Indent(RenderCounts(c), 1)}
            ),
            scores AS (
                SELECT
                    x.user_id,
                    m.segment,
                    m.log_prior
                        + {score} AS score
                FROM counts AS x
                CROSS JOIN {c.Q(ModelTable)} AS m
            ),
            scored AS (
                SELECT
                    user_id,
                    segment,
                    score,
                    max(score) OVER (PARTITION BY user_id) AS top
                FROM scores
            )
            SELECT
                user_id,
                {d.ArgMax("segment", "score")} AS segment,
                {d.Literal(1.0)} / {d.ExactSum("exp(score - top)")} AS probability
            FROM scored
            GROUP BY
                user_id
            """;
    }
}
