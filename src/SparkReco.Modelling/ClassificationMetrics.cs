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
}
