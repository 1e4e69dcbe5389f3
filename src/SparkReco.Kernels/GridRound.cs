namespace SparkReco.Kernels;

/// <summary>
/// Rounding half away from zero of a non-negative double, as SQL's <c>round(x)</c> does, without
/// <c>Math.Round(x, MidpointRounding.AwayFromZero)</c>, which goes through <c>modf</c> and costs several times more in the
/// kernels' innermost loops. x − floor(x) is exact for every double, so the comparison with 0.5 decides exactly.
/// </summary>
public static class GridRound
{
    public static long Of(double x)
    {
        var floor = Math.Floor(x);
        return (long)floor + (x - floor >= 0.5 ? 1 : 0);
    }

    /// <summary>The same for values beyond the range of long (up to 1e38).</summary>
    public static Int128 Wide(double x)
    {
        var floor = Math.Floor(x);
        return (Int128)floor + (x - floor >= 0.5 ? 1 : 0);
    }
}
