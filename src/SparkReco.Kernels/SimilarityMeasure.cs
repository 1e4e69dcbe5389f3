namespace SparkReco.Kernels;

/// <summary>
/// The item-item similarity measures from the contingency counts c (users with both), n_a, n_b (users with each) and
/// N (users). Each is computed with the same operations, in the same order, as the stage SQL, so both give the same bits.
/// </summary>
public static class SimilarityMeasure
{
    public delegate double Function(long c, long na, long nb, long n);

    /// <summary>The random-walk measure, which needs more than the contingency counts (see <see cref="Rp3"/>).</summary>
    public const string Rp3Beta = "rp3beta";

    /// <summary>A user's weight in the rp3beta walk: the chance of stepping from the user to one of its m basket items, to the power α.</summary>
    public static double WalkWeight(long basketSize, double alpha) => Math.Pow(basketSize, -alpha);

    /// <summary>
    /// RP3β of item a towards item b: walk = Σ over users with both of m_u^−α (exact sum), times n_a^−α (the step from
    /// a to one of its users), divided by n_b^β (the penalty on popular targets). Asymmetric.
    /// </summary>
    public static double Rp3(double walk, long na, long nb, double alpha, double beta) =>
        walk * Math.Pow(na, -alpha) / Math.Pow(nb, beta);

    /// <summary>
    /// The support factor c / (c + λ) that shrinks lift and inclusion towards 0 for pairs few users share: both are ratios
    /// that reach their maximum on pairs of rare items (two users with the same two items have inclusion 1 and lift N/2),
    /// so without it those pairs fill every top-K. λ = 0 gives exactly 1 (the measure unchanged).
    /// </summary>
    public static double Shrink(long c, double lambda) => c / (c + lambda);

    /// <param name="measure">One of the count measures.</param>
    /// <param name="shrinkage">λ of <see cref="Shrink"/> for lift and inclusion (Similarity:Shrinkage); the other measures ignore it.</param>
    public static Function For(string measure, double shrinkage) => measure switch
    {
        "cooccurrence" => static (c, _, _, _) => c,
        "jaccard" => static (c, na, nb, _) => (double)c / (na + nb - c),
        "lift" => (c, na, nb, n) => (double)(c * n) / (na * nb) * Shrink(c, shrinkage),
        "cosine" => static (c, na, nb, _) => c / Math.Sqrt(na * nb),
        "inclusion" => (c, na, nb, _) => (double)c / Math.Min(na, nb) * Shrink(c, shrinkage),
        "llr" => Llr,
        _ => throw new ArgumentOutOfRangeException(nameof(measure), measure, "Unknown similarity measure."),
    };

    /// <summary>Dunning's G² in the entropy form the SQL uses, clamped at 0 (round-off can make it slightly negative).</summary>
    public static double Llr(long c, long na, long nb, long n)
    {
        var g = XLogX(c) + XLogX(na - c) + XLogX(nb - c) + XLogX(n - na - nb + c)
            - XLogX(na) - XLogX(n - na) - XLogX(nb) - XLogX(n - nb) + XLogX(n);
        return Math.Max(0.0, 2.0 * g);
    }

    private static double XLogX(long x) => x > 0 ? x * Math.Log(x) : 0.0;
}
