namespace SparkReco.Modelling;

/// <summary>Hold-out quality of probabilistic classifiers.</summary>
public static class ClassificationMetrics
{
    /// <summary>Probabilities are clipped to [Epsilon, 1] before the log, as usual, so one confident miss is large but finite.</summary>
    public const double Epsilon = 1e-15;

    /// <summary>Mean negative log-likelihood of the true classes; <paramref name="probabilityOfTruth"/>(i) is the probability row i gave its true class (0 if unknown to the model).</summary>
    public static double LogLoss(int count, Func<int, double> probabilityOfTruth)
    {
        ArgumentNullException.ThrowIfNull(probabilityOfTruth);
        if (count == 0) return double.NaN;
        var sum = 0.0;
        for (var i = 0; i < count; i++) sum -= Math.Log(Math.Max(Epsilon, probabilityOfTruth(i)));
        return sum / count;
    }

    public static double Accuracy(IReadOnlyList<string> predicted, IReadOnlyList<string> truth)
    {
        ArgumentNullException.ThrowIfNull(predicted);
        ArgumentNullException.ThrowIfNull(truth);
        if (truth.Count == 0) return double.NaN;
        var hits = 0;
        for (var i = 0; i < truth.Count; i++)
            if (string.Equals(predicted[i], truth[i], StringComparison.Ordinal)) hits++;
        return (double)hits / truth.Count;
    }

    /// <summary>
    /// Lift by decile, how targeting lists are judged: the rows ranked by <paramref name="scores"/> (highest first, ties by
    /// row index so the cut is deterministic), cut into ten groups as equal as possible, and per group the rate of
    /// <paramref name="positive"/> rows divided by the rate over all rows. Decile 1 is the top 10 %. Empty when there are
    /// fewer than ten rows or no positive row: a lift against a rate of zero means nothing.
    /// </summary>
    public static IReadOnlyList<DecileLift> LiftByDecile(IReadOnlyList<double> scores, IReadOnlyList<bool> positive)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(positive);
        if (scores.Count != positive.Count) throw new ArgumentException($"{scores.Count} scores but {positive.Count} outcomes.", nameof(positive));
        var n = scores.Count;
        var total = positive.Count(p => p);
        if (n < 10 || total == 0) return [];
        var overall = (double)total / n;
        var ranked = Enumerable.Range(0, n).OrderByDescending(i => scores[i]).ThenBy(i => i).ToArray();
        var rows = new int[10];
        var hits = new int[10];
        for (var r = 0; r < n; r++)
        {
            var decile = (int)((long)r * 10 / n);
            rows[decile]++;
            if (positive[ranked[r]]) hits[decile]++;
        }
        return Enumerable.Range(0, 10).Select(d =>
        {
            var rate = (double)hits[d] / rows[d];
            return new DecileLift(d + 1, rows[d], hits[d], rate, rate / overall);
        }).ToList();
    }
}

/// <summary>One decile of <see cref="ClassificationMetrics.LiftByDecile"/>: its rows, positives, rate and rate ÷ overall rate.</summary>
public sealed record DecileLift(int Decile, int Rows, int Positives, double Rate, double Lift);
