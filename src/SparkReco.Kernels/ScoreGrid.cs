namespace SparkReco.Kernels;

/// <summary>
/// How candidate sums stay order-independent without a 128-bit decimal sum: each row (user) gets a power-of-two
/// <see cref="Scale"/> from an upper bound B on the magnitude of its sums, every term x becomes
/// <c>round(x·scale) / scale</c> (a multiple of 1/scale), and B·scale ≤ 2⁵¹ keeps every partial sum an exact double, so
/// any adding order gives the same bits. The error per term is at most 2⁻⁵² of B. The reason (the contributor of the
/// largest term, lowest id on ties) compares terms on a coarser grid of 2²¹ units (<see cref="ReasonKey"/>, ties within
/// 2⁻²⁹ of B), so the key and a 32-bit contributor id pack into one BIGINT that a plain <c>max</c> can aggregate.
/// The SQL path computes exactly the same doubles (jobs: ScoreGridSql); a test holds the two together.
/// </summary>
public static class ScoreGrid
{
    /// <summary>The grid exponent is kept within this range so the scale stays a finite, normal double.</summary>
    public const int MaxExponent = 1000;

    /// <summary>Units per step of the reason's comparison grid (2²¹): keys stay below 2³¹, leaving 32 bits for the id.</summary>
    public const double ReasonUnits = 2097152;

    /// <summary>
    /// 2^(51 − ⌈log₂ B⌉), clamped to 2^±<see cref="MaxExponent"/>; 1 when B is not positive (then every term is 0).
    /// B is the row's count of contributing sources times its largest possible |term|.
    /// </summary>
    public static double Scale(double bound) =>
        bound > 0 ? Math.Pow(2.0, Math.Clamp(51 - Math.Ceiling(Math.Log2(bound)), -MaxExponent, MaxExponent)) : 1.0;

    /// <summary>round(x·scale), rounding half away from zero as SQL's round does: the term in grid units (an integer).</summary>
    public static double Units(double scaled) => scaled >= 0 ? GridRound.Of(scaled) : -GridRound.Of(-scaled);

    /// <summary>floor(units / 2²¹): the term's rank for the reason; larger is better.</summary>
    public static long ReasonKey(double units) => (long)Math.Floor(units / ReasonUnits);
}
