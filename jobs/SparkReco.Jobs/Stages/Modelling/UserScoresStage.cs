using System.Diagnostics;
using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>What the propensity stage fitted, kept so tests can compare the engine's SQL with ML.NET.</summary>
public sealed record ScoreFit(Standardisation Standardisation, StandardisedFeatures Standardised, SoftmaxModel Model, DateTime Cutoff);

/// <summary>
/// user_scores: per user and class, the probability that the user's next engagement is in that item
/// category. Learned from the window before the cutoff (as_of − Scores:HorizonDays): features at the
/// cutoff, label = category of the first engagement after it. Fitted on the driver with ML.NET's
/// L-BFGS maximum entropy on a deterministic md5 sample; the standardisation and the weights and biases are registered
/// as rows (<see cref="StandardisationTable"/>, <see cref="WeightsTable"/>); scored for every user in the engine by SQL
/// (stable softmax), with features at as_of.
/// </summary>
public sealed class UserScoresStage : StepStage
{
    public const string Table = "user_scores";
    public const string TrainingFeatures = "score_training_features";
    public const string Labels = "score_labels";
    public const string StandardisationTable = "score_standardisation";
    public const string WeightsTable = "score_weights";
    public const string OtherClass = "(other)";

    /// <summary>Users of the self-check against ML.NET's own probabilities.</summary>
    private const long CheckedUsers = 200;

    public override string Name => Table;
    public override string Description => "one row per (user, class): softmax probability of the next engagement's category, rank 1 = most likely";
    public override IReadOnlyList<string> Inputs => [UserFeaturesStage.Table, "clean_events", SourceTables.Items];
    public override bool IsOutput => true;
    public override IReadOnlyList<string> OutputOrder => ["user_id", "rank"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id"];

    public ScoreFit? LastFit { get; private set; }

    public override bool IsEnabled(StageContext context) => context.Settings.Scores.Enabled && context.HasItems;
    public override string DisabledReason(StageContext context) => WhyNot(context);

    /// <summary>The classes scored are item categories, so the stage needs item metadata as well as its setting.</summary>
    internal static string WhyNot(StageContext context) => !context.Settings.Scores.Enabled
        ? "Scores:Enabled=false"
        : "no item metadata (Input:Items is not set); the classes it scores are item categories";

    private static DateTime Cutoff(StageContext c) => c.AsOf.AddDays(-c.Settings.Scores.HorizonDays);

    public override IEnumerable<StageStep> Steps(StageContext c, StageRows result)
    {
        var settings = c.Settings.Scores;
        var cutoff = Cutoff(c);
        var spec = c.Results.Get<FeatureSpec>();
        var features = spec.Columns.Select(f => f.Name).ToList();
        var standardised = new StandardisedFeatures(features, StandardisationTable);
        var metrics = new PropensityMetrics { Target = settings.Target, Cutoff = cutoff };

        yield return new MaterializeStep(TrainingFeatures, spec.RenderSelect(c, cutoff, TrainingFeatures));
        yield return new MaterializeStep(Labels, RenderLabels(c, spec), labelled => metrics.LabelledUsers = labelled);
        Standardisation? stand = null;
        yield return new QueryStep(Standardisation.RenderStats(c, TrainingFeatures, features), rows => stand = Standardisation.FromStats(features, rows[0]));
        yield return standardised.Register(() => stand!);

        var train = new List<(float[] X, string Y)>();
        var holdout = new List<(float[] X, string Y)>();
        yield return new QueryStep(RenderSample(c, standardised), sample =>
        {
            foreach (var row in sample)
            {
                var key = Convert.ToString(row["holdout_key"], CultureInfo.InvariantCulture)!;
                var u = uint.Parse(key.AsSpan(0, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture) / 4294967296.0;
                (u < settings.HoldoutFraction ? holdout : train).Add((standardised.Vector(row), Convert.ToString(row["label"], CultureInfo.InvariantCulture)!));
            }
            metrics.SampleUsers = sample.Count;
            metrics.TrainUsers = train.Count;
            metrics.HoldoutUsers = holdout.Count;
            c.Results.Set(metrics);
        });

        SoftmaxModel? model = null;
        yield return new DriverStep("softmax regression (ML.NET L-BFGS maximum entropy) on the sample's training users; log-loss and accuracy on the hold-out", () =>
        {
            var classes = train.Select(t => t.Y).Distinct(StringComparer.Ordinal).Count();
            if (train.Count < 10 || classes < 2)
            {
                // No model: the weights table stays empty, so user_scores is empty with the same SQL.
                metrics.Skipped = $"not enough labelled users before as_of − {settings.HorizonDays} days ({train.Count} training users, {classes} classes)";
                c.Facts["user_scores.skipped"] = metrics.Skipped;
                return;
            }
            // Timings go to the manifest, not metrics.json, so identical runs give identical metrics.
            var watch = Stopwatch.StartNew();
            model = SoftmaxModel.Fit(train.Select(t => t.X).ToList(), train.Select(t => t.Y).ToList(), settings.Seed, settings.L2Regularization);
            c.Facts["user_scores.seconds_fit"] = Math.Round(watch.Elapsed.TotalSeconds, 3);
            LastFit = new ScoreFit(stand!, standardised, model, cutoff);
            Evaluate(model, train, holdout, metrics);
        });
        yield return new RegisterStep(WeightsTable, WeightsSchema(features.Count),
            "one row per class: its index, name, bias and weight w{i} per standardised feature (none when the model was skipped)",
            () => Weights(model, features.Count));
        yield return new MaterializeStep(Name, RenderScore(c, standardised));

        // Self-check on every run: for the first users by md5, the engine's probabilities against ML.NET's own on the same features.
        IReadOnlyList<IReadOnlyDictionary<string, object?>> checkedRows = [];
        yield return new QueryStep(RenderCheckFeatures(c, standardised), rows => checkedRows = rows);
        yield return new QueryStep(RenderCheckScores(c), rows =>
        {
            if (model is null) return;
            metrics.SqlVsMlnetMaxAbsDiff = MaxDifference(model, standardised, checkedRows, rows);
            metrics.Classes = model.Classes;
            metrics.Standardisation = stand!.Features.Select((f, i) => new FeatureScale(f, stand.Means[i], stand.Stds[i])).ToList();
            metrics.Weights = model.Classes.Select((name, k) => new ClassWeights(name, model.Biases[k], model.Weights[k])).ToList();
            c.Facts["user_scores.classes"] = model.Classes.Count;
        });
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

    public static string RenderSample(StageContext c, StandardisedFeatures s) =>
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
        {s.Join(c)}
        ORDER BY
            {c.Dialect.Md5("f.user_id")},
            f.user_id
        LIMIT {c.Dialect.Literal((long)c.Settings.Scores.MaxSampleUsers)}
        """;

    private static IReadOnlyList<(string Name, ColumnType Type)> WeightsSchema(int features) =>
        [("class_index", ColumnType.Int64Bit), ("class", ColumnType.Text), ("bias", ColumnType.Real), .. Enumerable.Range(0, features).Select(i => ($"w{i}", ColumnType.Real))];

    private static ColumnTable Weights(SoftmaxModel? model, int features)
    {
        var classes = model?.Classes ?? [];
        return new ColumnTable(classes.Count,
        [
            Column.Of("class_index", Enumerable.Range(0, classes.Count).Select(k => (long)k).ToArray()),
            Column.Of("class", classes.Select(name => (string?)name).ToArray()),
            Column.Of("bias", model?.Biases.ToArray() ?? []),
            .. Enumerable.Range(0, features).Select(i => Column.Of($"w{i}", Enumerable.Range(0, classes.Count).Select(k => model!.Weights[k][i]).ToArray())),
        ]);
    }

    /// <summary>
    /// Softmax scoring of every user in user_features against the registered weights: one logit per (user, class), minus the
    /// user's maximum, exp, divided by the user's (exact) sum, one row per class.
    /// </summary>
    public static string RenderScore(StageContext c, StandardisedFeatures s)
    {
        var d = c.Dialect;
        var logit = string.Join("\n            + ", s.Features.Select((_, i) => $"w.w{i} * s.z{i}").Prepend("w.bias"));
        return $"""
            -- user_scores: one row per (user, class of {WeightsTable}); probability = softmax over the classes, rank 1 = most likely (ties by class).
            WITH {s.StandardisedCte(c, UserFeaturesStage.Table)},
            logits AS (
                SELECT
                    s.user_id,
                    w.class,
                    {logit} AS logit
                FROM standardised AS s
                CROSS JOIN {c.Q(WeightsTable)} AS w
            ),
            maxima AS (
                SELECT
                    user_id,
                    max(logit) AS l_max
                FROM logits
                GROUP BY
                    user_id
            ),
            shifted AS (
                SELECT
                    l.user_id,
                    l.class,
                    exp(l.logit - m.l_max) AS e
                FROM logits AS l
                JOIN maxima AS m
                    ON m.user_id = l.user_id
            ),
            totals AS (
                SELECT
                    user_id,
                    {d.ExactSum("e")} AS total
                FROM shifted
                GROUP BY
                    user_id
            ),
            probabilities AS (
                SELECT
                    x.user_id,
                    x.class,
                    x.e / t.total AS probability
                FROM shifted AS x
                JOIN totals AS t
                    ON t.user_id = x.user_id
            )
            SELECT
                user_id,
                class,
                probability,
                CAST(row_number() OVER (PARTITION BY user_id ORDER BY probability DESC, class) AS BIGINT) AS {c.Q("rank")}
            FROM probabilities
            """;
    }

    /// <summary>The self-check's users (the first by md5) with their standardised as_of features.</summary>
    private static string RenderCheckFeatures(StageContext c, StandardisedFeatures s) =>
        $"""
        -- user_scores self-check: the first users by md5(user_id) with their standardised features, for ML.NET's own probabilities
        SELECT
            f.user_id,
            {s.ZColumns(c, "f.")}
        FROM {c.Q(UserFeaturesStage.Table)} AS f
        {s.Join(c)}
        ORDER BY
            {c.Dialect.Md5("f.user_id")},
            f.user_id
        LIMIT {c.Dialect.Literal(CheckedUsers)}
        """;

    /// <summary>
    /// The same users' probabilities from the engine. The users are selected again by the engine rather than listed as
    /// literals: user ids never enter SQL text, which --verbose logs (with pseudonymisation on, raw ids must not reach a log).
    /// </summary>
    private static string RenderCheckScores(StageContext c) =>
        $"""
        -- user_scores self-check: the engine's probabilities of the same users
        SELECT
            s.user_id,
            s.class,
            s.probability
        FROM {c.Q(Table)} AS s
        JOIN (
            SELECT user_id
            FROM {c.Q(UserFeaturesStage.Table)}
            ORDER BY
                {c.Dialect.Md5("user_id")},
                user_id
            LIMIT {c.Dialect.Literal(CheckedUsers)}
        ) AS checked
            ON checked.user_id = s.user_id
        """;

    private static double MaxDifference(SoftmaxModel model, StandardisedFeatures s, IReadOnlyList<IReadOnlyDictionary<string, object?>> features, IReadOnlyList<IReadOnlyDictionary<string, object?>> scores)
    {
        if (features.Count == 0) return 0;
        var expected = model.PredictProbabilities(features.Select(s.Vector).ToList());
        var scored = scores.ToDictionary(
            r => (Convert.ToString(r["user_id"], CultureInfo.InvariantCulture)!, Convert.ToString(r["class"], CultureInfo.InvariantCulture)!),
            r => Convert.ToDouble(r["probability"], CultureInfo.InvariantCulture));
        var max = 0.0;
        for (var i = 0; i < features.Count; i++)
        {
            var user = Convert.ToString(features[i]["user_id"], CultureInfo.InvariantCulture)!;
            for (var k = 0; k < model.Classes.Count; k++)
                max = Math.Max(max, Math.Abs(expected[i][k] - scored[(user, model.Classes[k])]));
        }
        return max;
    }

    /// <summary>Hold-out log-loss and accuracy of the model, the majority class and the training prior.</summary>
    private static void Evaluate(SoftmaxModel model, List<(float[] X, string Y)> train, List<(float[] X, string Y)> holdout, PropensityMetrics metrics)
    {
        if (holdout.Count == 0)
        {
            metrics.Holdout = "no hold-out users in the sample";
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

        metrics.HoldoutLogLoss = Math.Round(ClassificationMetrics.LogLoss(truth.Count, ModelTruth), 6);
        metrics.HoldoutAccuracy = Math.Round(ClassificationMetrics.Accuracy(predicted, truth), 6);
        metrics.BaselineMajorityClass = majority;
        metrics.BaselineMajorityLogLoss = Math.Round(ClassificationMetrics.LogLoss(truth.Count, i => truth[i] == majority ? 1 : 0), 6);
        metrics.BaselineMajorityAccuracy = Math.Round(ClassificationMetrics.Accuracy(majorityList, truth), 6);
        metrics.BaselinePriorLogLoss = Math.Round(ClassificationMetrics.LogLoss(truth.Count, i => prior.GetValueOrDefault(truth[i])), 6);
        metrics.BaselinePriorAccuracy = Math.Round(ClassificationMetrics.Accuracy(majorityList, truth), 6);
        metrics.LogLossClip = ClassificationMetrics.Epsilon;
        // Lift on the hold-out, not on user_scores: those are scored at as_of from features that already contain the
        // engagement a label would be, so a lift measured there would flatter the model.
        metrics.LiftByDecile = model.Classes.Select((name, k) =>
        {
            var engaged = truth.Select(t => string.Equals(t, name, StringComparison.Ordinal)).ToList();
            var deciles = ClassificationMetrics.LiftByDecile(probabilities.Select(p => (double)p[k]).ToList(), engaged)
                .Select(x => x with { Rate = Math.Round(x.Rate, 6), Lift = Math.Round(x.Lift, 6) }).ToList();
            return new ClassLift(name, engaged.Count(e => e), deciles);
        }).ToList();
    }
}
