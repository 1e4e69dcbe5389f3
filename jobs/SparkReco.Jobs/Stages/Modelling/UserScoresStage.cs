using System.Diagnostics;
using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>What the propensity stage fitted, kept so tests can compare the engine's SQL with ML.NET.</summary>
public sealed record ScoreFit(Standardisation Standardisation, SoftmaxModel Model, DateTime Cutoff);

/// <summary>
/// user_scores: per user and class, the probability that the user's next engagement is in that item
/// category. Learned from the window before the cutoff (as_of − Scores:HorizonDays): features at the
/// cutoff, label = category of the first engagement after it. Fitted on the driver with ML.NET's
/// L-BFGS maximum entropy on a deterministic md5 sample; exported as weights, biases and
/// standardisation; scored for every user in the engine by SQL (stable softmax), with features at as_of.
/// </summary>
public sealed class UserScoresStage : IStage
{
    public const string Table = "user_scores";
    public const string TrainingFeatures = "score_training_features";
    public const string Labels = "score_labels";
    public const string OtherClass = "(other)";

    public string Name => Table;
    public string Description => "one row per (user, class): softmax probability of the next engagement's category, rank 1 = most likely";
    public IReadOnlyList<string> Inputs => [UserFeaturesStage.Table, "clean_events", SourceTables.Items];
    public bool IsOutput => true;
    public IReadOnlyList<string> OutputOrder => ["user_id", "rank"];
    public IReadOnlyList<string> UserIdColumns => ["user_id"];

    public ScoreFit? LastFit { get; private set; }

    public bool IsEnabled(StageContext context) => context.Settings.Scores.Enabled && context.HasItems;

    private static DateTime Cutoff(StageContext c) => c.AsOf.AddDays(-c.Settings.Scores.HorizonDays);

    public IEnumerable<string> RenderSql(StageContext c)
    {
        var spec = FeatureSpec.ForPlan(c);
        var features = spec.Columns.Select(f => f.Name).ToList();
        var stand = new Standardisation(features, features.Select(_ => 0.0).ToList(), features.Select(_ => 1.0).ToList());
        var weights = new[] { new double[features.Count], new double[features.Count] };
        var score = c.Dialect.Materialize(Name, RenderScore(c, stand, spec.Categories, weights, [0.0, 0.0])).ToList();
        score[0] = "-- the model is fitted on the sample on the driver (ML.NET); weights below are placeholders for the fitted ones\n" + score[0];
        return
        [
            .. c.Dialect.Materialize(TrainingFeatures, spec.RenderSelect(c, Cutoff(c), TrainingFeatures)),
            .. c.Dialect.Materialize(Labels, RenderLabels(c, spec)),
            Standardisation.RenderStats(c, TrainingFeatures, features),
            RenderSample(c, stand),
            .. score,
        ];
    }

    /// <summary>The label per user: the category of the first engagement in (cutoff, as_of]; categories without a feature column are one class.</summary>
    public static string RenderLabels(StageContext c, FeatureSpec spec)
    {
        var d = c.Dialect;
        var known = spec.Categories.Count == 0
            ? d.Literal(OtherClass)
            : $"CASE WHEN ic.category IN ({string.Join(", ", spec.Categories.Select(d.Literal))}) THEN ic.category ELSE {d.Literal(OtherClass)} END";
        return $"""
            -- {Labels}: one row per user with an engagement after the cutoff: the category of the first one (ties by item, type).
            SELECT
                user_id,
                label
            FROM (
                SELECT
                    e.user_id,
                    {known} AS label,
                    row_number() OVER (PARTITION BY e.user_id ORDER BY e.event_time, e.item_id, e.event_type) AS position
                FROM {c.Q("clean_events")} AS e
                JOIN (
            {FeatureSpec.Indent(FeatureSpec.RenderItemCategories(c), 2)}
                ) AS ic
                    ON ic.item_id = e.item_id
                WHERE e.event_time > {d.Timestamp(Cutoff(c))}
                    AND e.event_time <= {d.Timestamp(c.AsOf)}
            ) AS firsts
            WHERE position = 1
            """;
    }

    public static string RenderSample(StageContext c, Standardisation s) =>
        $"""
        -- training sample: labelled users with features at the cutoff, the first by md5(user_id); holdout_key splits off the hold-out
        SELECT
            f.user_id,
            l.label,
            {c.Dialect.Md5(c.Dialect.Concat("f.user_id", c.Dialect.Literal("|holdout")))} AS holdout_key,
            {s.ZColumns(c, "f.")}
        FROM {c.Q(TrainingFeatures)} AS f
        JOIN {c.Q(Labels)} AS l
            ON l.user_id = f.user_id
        ORDER BY
            {c.Dialect.Md5("f.user_id")},
            f.user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Scores.MaxSampleUsers)}
        """;

    /// <summary>Softmax scoring of every user in user_features: logits from the exported weights, minus the per-user maximum, exp, normalise, one row per class.</summary>
    public static string RenderScore(StageContext c, Standardisation s, IReadOnlyList<string> classes, IReadOnlyList<double[]> weights, IReadOnlyList<double> biases)
    {
        var d = c.Dialect;
        var n = classes.Count;
        string Logit(int k)
        {
            var terms = weights[k].Select((w, i) => (w, i)).Where(t => t.w != 0).Select(t => $"{d.Literal(t.w)} * z{t.i}");
            return string.Join("\n            + ", new[] { d.Literal(biases[k]) }.Concat(terms));
        }
        var logits = string.Join(",\n        ", Enumerable.Range(0, n).Select(k => $"{Logit(k)} AS l{k}"));
        var max = n == 1 ? "l0" : $"greatest({string.Join(", ", Enumerable.Range(0, n).Select(k => $"l{k}"))})";
        var exps = string.Join(",\n        ", Enumerable.Range(0, n).Select(k => $"exp(l{k} - l_max) AS e{k}"));
        var sum = string.Join(" + ", Enumerable.Range(0, n).Select(k => $"e{k}"));
        var probabilities = string.Join(",\n        ", Enumerable.Range(0, n).Select(k => $"e{k} / ({sum}) AS p{k}"));
        var classRows = string.Join("\n        UNION ALL\n        ", classes.Select((name, k) => $"SELECT {d.Literal((long)k)} AS class_index, {d.Literal(name)} AS class"));
        var pick = $"CASE cl.class_index\n            {string.Join("\n            ", Enumerable.Range(0, n).Select(k => $"WHEN {k} THEN p.p{k}"))}\n        END";
        return $"""
            -- user_scores: one row per (user, class); probability = softmax over {n} classes, rank 1 = most likely (ties by class).
            WITH {s.StandardisedCte(c, UserFeaturesStage.Table)},
            logits AS (
                SELECT
                    user_id,
                    {logits}
                FROM standardised
            ),
            shifted AS (
                SELECT
                    user_id,
                    {exps}
                FROM (
                    SELECT
                        *,
                        {max} AS l_max
                    FROM logits
                ) AS with_max
            ),
            probabilities AS (
                SELECT
                    user_id,
                    {probabilities}
                FROM shifted
            ),
            classes AS (
                {classRows}
            ),
            long_scores AS (
                SELECT
                    p.user_id,
                    cl.class,
                    {pick} AS probability
                FROM probabilities AS p
                CROSS JOIN classes AS cl
            )
            SELECT
                user_id,
                class,
                probability,
                CAST(row_number() OVER (PARTITION BY user_id ORDER BY probability DESC, class) AS BIGINT) AS {c.Q("rank")}
            FROM long_scores
            """;
    }

    public async Task<long> RunAsync(IEngine engine, StageContext c, CancellationToken ct)
    {
        var settings = c.Settings.Scores;
        var cutoff = Cutoff(c);
        var spec = await FeatureSpec.DiscoverAsync(engine, c, ct);
        await engine.CreateTableAsync(TrainingFeatures, spec.RenderSelect(c, cutoff, TrainingFeatures), ct);
        var labelled = await engine.CreateTableAsync(Labels, RenderLabels(c, spec), ct);
        var features = spec.Columns.Select(f => f.Name).ToList();
        var stand = await Standardisation.ComputeAsync(engine, c, TrainingFeatures, features, ct);

        var watch = Stopwatch.StartNew();
        var sample = await engine.QueryAsync(RenderSample(c, stand), ct);
        var pullSeconds = watch.Elapsed.TotalSeconds;
        var train = new List<(float[] X, string Y)>();
        var holdout = new List<(float[] X, string Y)>();
        foreach (var row in sample)
        {
            var key = Convert.ToString(row["holdout_key"], CultureInfo.InvariantCulture)!;
            var u = uint.Parse(key.AsSpan(0, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 4294967296.0;
            (u < settings.HoldoutFraction ? holdout : train).Add((stand.Vector(row), Convert.ToString(row["label"], CultureInfo.InvariantCulture)!));
        }
        var metrics = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["target"] = settings.Target,
            ["cutoff"] = cutoff,
            ["labelled_users"] = labelled,
            ["sample_users"] = sample.Count,
            ["train_users"] = train.Count,
            ["holdout_users"] = holdout.Count,
        };
        // Timings go to the manifest, not metrics.json, so identical runs give identical metrics.
        c.Facts["user_scores.seconds_pull_sample"] = Math.Round(pullSeconds, 3);
        c.Metrics["propensity"] = metrics;

        var classes = train.Select(t => t.Y).Distinct(StringComparer.Ordinal).Count();
        if (train.Count < 10 || classes < 2)
        {
            metrics["skipped"] = $"not enough labelled users before as_of − {settings.HorizonDays} days ({train.Count} training users, {classes} classes)";
            c.Facts["user_scores.skipped"] = metrics["skipped"];
            return await engine.CreateTableAsync(Name,
                $"SELECT {c.Dialect.CastString("NULL")} AS user_id, {c.Dialect.CastString("NULL")} AS class, CAST(NULL AS DOUBLE) AS probability, CAST(NULL AS BIGINT) AS {c.Q("rank")}\nFROM {c.Q(UserFeaturesStage.Table)}\nWHERE 1 = 0", ct);
        }

        watch.Restart();
        var model = SoftmaxModel.Fit(train.Select(t => t.X).ToList(), train.Select(t => t.Y).ToList(), settings.Seed, settings.L2Regularization);
        c.Facts["user_scores.seconds_fit"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
        LastFit = new ScoreFit(stand, model, cutoff);

        Evaluate(model, train, holdout, metrics);

        watch.Restart();
        var rows = await engine.CreateTableAsync(Name, RenderScore(c, stand, model.Classes, model.Weights, model.Biases), ct);
        c.Facts["user_scores.seconds_score_sql"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
        metrics["sql_vs_mlnet_max_abs_diff"] = await CheckAgainstModelAsync(engine, c, stand, model, ct);
        metrics["classes"] = model.Classes;
        metrics["standardisation"] = stand.Describe();
        metrics["weights"] = model.Classes.Select((name, k) => new { @class = name, bias = model.Biases[k], weights = model.Weights[k] }).ToArray();
        c.Facts["user_scores.classes"] = model.Classes.Count;
        return rows;
    }

    /// <summary>Self-check on every run: for the first users by md5, the engine's probabilities against ML.NET's own on the same features.</summary>
    private static async Task<double> CheckAgainstModelAsync(IEngine engine, StageContext c, Standardisation stand, SoftmaxModel model, CancellationToken ct)
    {
        const long Users = 200;
        var d = c.Dialect;
        var rows = await engine.QueryAsync(
            $"""
            SELECT
                user_id,
                {stand.ZColumns(c)}
            FROM {c.Q(UserFeaturesStage.Table)}
            ORDER BY
                {d.Md5("user_id")},
                user_id
            LIMIT {d.Literal(Users)}
            """, ct);
        if (rows.Count == 0) return 0;
        var expected = model.PredictProbabilities(rows.Select(stand.Vector).ToList());
        // The sample is selected again by the engine rather than listed as literals: user ids never enter SQL
        // text, which --verbose logs (with pseudonymisation on, raw ids must not reach a log).
        var scored = (await engine.QueryAsync(
            $"""
            SELECT
                s.user_id,
                s.class,
                s.probability
            FROM {c.Q(Table)} AS s
            JOIN (
                SELECT user_id
                FROM {c.Q(UserFeaturesStage.Table)}
                ORDER BY
                    {d.Md5("user_id")},
                    user_id
                LIMIT {d.Literal(Users)}
            ) AS checked
                ON checked.user_id = s.user_id
            """, ct))
            .ToDictionary(r => (Convert.ToString(r["user_id"], CultureInfo.InvariantCulture)!, Convert.ToString(r["class"], CultureInfo.InvariantCulture)!),
                r => Convert.ToDouble(r["probability"], CultureInfo.InvariantCulture));
        var max = 0.0;
        for (var i = 0; i < rows.Count; i++)
        {
            var user = Convert.ToString(rows[i]["user_id"], CultureInfo.InvariantCulture)!;
            for (var k = 0; k < model.Classes.Count; k++)
                max = Math.Max(max, Math.Abs(expected[i][k] - scored[(user, model.Classes[k])]));
        }
        return max;
    }

    /// <summary>Hold-out log-loss and accuracy of the model, the majority class and the training prior.</summary>
    private static void Evaluate(SoftmaxModel model, List<(float[] X, string Y)> train, List<(float[] X, string Y)> holdout, SortedDictionary<string, object> metrics)
    {
        if (holdout.Count == 0)
        {
            metrics["holdout"] = "no hold-out users in the sample";
            return;
        }
        var truth = holdout.Select(h => h.Y).ToList();
        var index = model.Classes.Select((name, k) => (name, k)).ToDictionary(x => x.name, x => x.k, StringComparer.Ordinal);
        var probabilities = model.PredictProbabilities(holdout.Select(h => h.X).ToList());
        var predicted = probabilities.Select(p => model.Classes[Array.IndexOf(p, p.Max())]).ToList();
        double ModelTruth(int i) => index.TryGetValue(truth[i], out var k) ? probabilities[i][k] : 0;

        // Prior: training class frequencies with add-one smoothing over the training classes.
        var counts = train.GroupBy(t => t.Y, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (double)g.Count(), StringComparer.Ordinal);
        var prior = counts.ToDictionary(kv => kv.Key, kv => (kv.Value + 1) / (train.Count + counts.Count), StringComparer.Ordinal);
        var majority = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).First().Key;
        var majorityList = truth.Select(_ => majority).ToList();

        metrics["holdout_log_loss"] = Math.Round(ClassificationMetrics.LogLoss(truth.Count, ModelTruth), 6);
        metrics["holdout_accuracy"] = Math.Round(ClassificationMetrics.Accuracy(predicted, truth), 6);
        metrics["baseline_majority_class"] = majority;
        metrics["baseline_majority_log_loss"] = Math.Round(ClassificationMetrics.LogLoss(truth.Count, i => truth[i] == majority ? 1 : 0), 6);
        metrics["baseline_majority_accuracy"] = Math.Round(ClassificationMetrics.Accuracy(majorityList, truth), 6);
        metrics["baseline_prior_log_loss"] = Math.Round(ClassificationMetrics.LogLoss(truth.Count, i => prior.GetValueOrDefault(truth[i])), 6);
        metrics["baseline_prior_accuracy"] = Math.Round(ClassificationMetrics.Accuracy(majorityList, truth), 6);
        metrics["log_loss_clip"] = ClassificationMetrics.Epsilon;
    }
}
