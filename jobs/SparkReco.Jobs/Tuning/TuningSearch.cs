using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SparkReco.Jobs.Tuning;

/// <summary>One value a tuned dimension can take: the settings it sets, and how the table names it.</summary>
public sealed record TuningChoice(string Label, IReadOnlyDictionary<string, string> Settings);

/// <summary>
/// A group of settings tuned together (e.g. the item model: measure and its parameters), its choices, and when it applies
/// given the settings chosen so far (RP3β's α only matters with the rp3beta measure).
/// </summary>
public sealed record TuningDimension(string Name, IReadOnlyList<TuningChoice> Choices, Func<IReadOnlyDictionary<string, string>, bool>? AppliesTo = null);

/// <summary>One evaluated setting combination.</summary>
public sealed record TuningTrial(int Number, string Dimension, string Choice, IReadOnlyDictionary<string, string> Settings, double Score, double Seconds, bool Improved);

/// <summary>What the search found: every trial in order, the best settings and why it stopped.</summary>
public sealed record TuningResult(IReadOnlyList<TuningTrial> Trials, IReadOnlyDictionary<string, string> Best, double BestScore, double BaselineScore, string StoppedBecause);

/// <summary>
/// <c>sparkreco tune</c>'s search: coordinate ascent over a small grid. It scores the starting settings, then tries every
/// choice of one dimension with the others at their best so far, keeps a choice only when it scores strictly higher, and
/// moves to the next dimension; passes repeat while one changed something. Small and explainable (the table shows every
/// trial), and each trial is a whole train-and-evaluate run, so a full grid would not fit a budget of minutes.
/// <para>The time budget is checked before each trial against the slowest trial so far, so the search stops before it
/// would overrun rather than after.</para>
/// </summary>
public sealed class TuningSearch(IReadOnlyList<TuningDimension> dimensions, TimeSpan budget, int maxPasses = 3)
{
    /// <summary>The grid of the settings that matter most for the recommendation lists (issue 12), in search order.</summary>
    public static IReadOnlyList<TuningDimension> DefaultDimensions { get; } =
    [
        new("item model",
        [
            Choice("jaccard", ("Recommend:ItemModel", "similarity"), ("Similarity:Measure", "jaccard")),
            Choice("cosine", ("Recommend:ItemModel", "similarity"), ("Similarity:Measure", "cosine")),
            .. new[] { "0.2", "0.3", "0.4", "0.5", "0.6", "0.7" }.Select(beta =>
                Choice($"rp3beta β={beta}", ("Recommend:ItemModel", "similarity"), ("Similarity:Measure", "rp3beta"), ("Similarity:Rp3Beta", beta))),
            Choice("ease λ=50", ("Recommend:ItemModel", "ease"), ("Ease:Lambda", "50")),
            Choice("ease λ=200", ("Recommend:ItemModel", "ease"), ("Ease:Lambda", "200")),
        ]),
        new("rp3beta α", Values("Similarity:Rp3Alpha", "0.5", "0.75", "1"), UsesRp3),
        new("similar items kept", Values("Similarity:TopK", "20", "50", "100", "200", "500"), settings => Get(settings, "Recommend:ItemModel") != "ease"),
        new("blend weights (item, user)",
        [
            .. new[] { ("1", "0"), ("0.8", "0.2"), ("0.7", "0.3"), ("0.6", "0.4"), ("0.5", "0.5"), ("0.3", "0.7"), ("0", "1") }.Select(w =>
                Choice($"{w.Item1}, {w.Item2}", ("Recommend:ItemWeight", w.Item1), ("Recommend:UserWeight", w.Item2))),
        ]),
        new("neighbours per user", Values("Neighbors:TopK", "10", "20", "30", "50", "100"), UsesNeighbours),
        new("neighbour weight exponent", Values("Neighbors:WeightExponent", "1", "2", "3"), UsesNeighbours),
        new("items per neighbour",
            [Choice("50", ("Neighbors:MaxItemsPerNeighbor", "50")), Choice("100", ("Neighbors:MaxItemsPerNeighbor", "100")), Choice("all", ("Neighbors:MaxItemsPerNeighbor", "0"))],
            UsesNeighbours),
        new("popularity penalty", Values("Recommend:PopularityPenalty", "0", "0.1", "0.15", "0.2", "0.25")),
        new("user-based popularity penalty", Values("Neighbors:PopularityPenalty", "0", "0.1", "0.2", "0.3"), UsesNeighbours),
        new("half-life (days)", Values("Affinity:HalfLifeDays", "7", "30", "180", "3650")),
    ];

    /// <summary>The setting keys the default grid tunes (every one needs a starting value).</summary>
    public static IReadOnlyList<string> DefaultKeys { get; } =
        [.. DefaultDimensions.SelectMany(d => d.Choices).SelectMany(c => c.Settings.Keys).Distinct(StringComparer.OrdinalIgnoreCase)];

    private static bool UsesRp3(IReadOnlyDictionary<string, string> settings) =>
        Get(settings, "Similarity:Measure") == "rp3beta" && Get(settings, "Recommend:ItemModel") != "ease";

    private static bool UsesNeighbours(IReadOnlyDictionary<string, string> settings) => Get(settings, "Recommend:UserWeight") != "0";

    private static IReadOnlyList<TuningChoice> Values(string key, params string[] values) => [.. values.Select(v => Choice(v, (key, v)))];

    private static string? Get(IReadOnlyDictionary<string, string> settings, string key) => settings.TryGetValue(key, out var v) ? v : null;

    private static TuningChoice Choice(string label, params (string Key, string Value)[] settings) =>
        new(label, settings.ToDictionary(s => s.Key, s => s.Value, StringComparer.OrdinalIgnoreCase));

    /// <param name="start">The settings the search starts from (the user's values of the tuned keys).</param>
    /// <param name="score">Trains on the validation split's train side with the given tuned settings and returns the score (higher is better).</param>
    /// <param name="progress">Hears every trial as it finishes.</param>
    public async Task<TuningResult> RunAsync(IReadOnlyDictionary<string, string> start, Func<IReadOnlyDictionary<string, string>, CancellationToken, Task<double>> score,
        Action<TuningTrial>? progress, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(score);
        var clock = Stopwatch.StartNew();
        var trials = new List<TuningTrial>();
        var slowest = TimeSpan.Zero;
        var tried = new HashSet<string>(StringComparer.Ordinal);

        async Task<TuningTrial> Evaluate(string dimension, string choice, Dictionary<string, string> settings, double best)
        {
            var watch = Stopwatch.StartNew();
            var value = await score(settings, ct);
            watch.Stop();
            if (watch.Elapsed > slowest) slowest = watch.Elapsed;
            var trial = new TuningTrial(trials.Count + 1, dimension, choice, settings, value, Math.Round(watch.Elapsed.TotalSeconds, 1), value > best + 1e-12);
            trials.Add(trial);
            tried.Add(Key(settings));
            progress?.Invoke(trial);
            return trial;
        }

        var best = new Dictionary<string, string>(start, StringComparer.OrdinalIgnoreCase);
        var baseline = await Evaluate("start", "the given settings", best, double.NegativeInfinity);
        var bestScore = baseline.Score;
        var stopped = "every choice was tried";
        for (var pass = 0; pass < maxPasses; pass++)
        {
            var changed = false;
            foreach (var dimension in dimensions)
            {
                if (dimension.AppliesTo is { } applies && !applies(best)) continue;
                foreach (var choice in dimension.Choices)
                {
                    var candidate = new Dictionary<string, string>(best, StringComparer.OrdinalIgnoreCase);
                    foreach (var (key, value) in choice.Settings) candidate[key] = value;
                    if (tried.Contains(Key(candidate))) continue;
                    if (clock.Elapsed + slowest > budget)
                        return new TuningResult(trials, best, bestScore, baseline.Score,
                            $"the time budget ({budget.TotalSeconds:0} s) would be exceeded by the next trial (the slowest took {slowest.TotalSeconds:0.0} s)");
                    var trial = await Evaluate(dimension.Name, choice.Label, candidate, bestScore);
                    if (!trial.Improved) continue;
                    (best, bestScore, changed) = (candidate, trial.Score, true);
                }
            }
            if (!changed)
            {
                stopped = "no choice of any dimension improved on the best settings";
                break;
            }
        }
        return new TuningResult(trials, best, bestScore, baseline.Score, stopped);
    }

    /// <summary>Identifies a combination regardless of key order or case.</summary>
    private static string Key(IReadOnlyDictionary<string, string> settings) =>
        string.Join(";", settings.OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase).Select(kv => $"{kv.Key.ToUpperInvariant()}={kv.Value}"));

    /// <summary>The settings as a nested JSON configuration ({"Similarity": {"Measure": "rp3beta"}, …}) that run --config reads.</summary>
    public static string ToConfigJson(IReadOnlyDictionary<string, string> settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var root = new JsonObject();
        foreach (var (key, value) in settings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            var parts = key.Split(':');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child) node[part] = child = new JsonObject();
                node = child;
            }
            node[parts[^1]] = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? JsonValue.Create(number) : JsonValue.Create(value);
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
