namespace SparkReco.Kernels;

/// <summary>
/// The embedded dialect's order-independent double sum, <c>CAST(sum(CAST(x AS DECIMAL(38, 18))) AS DOUBLE)</c>,
/// reproduced bit for bit: each term is rounded to 18 decimals (x·10¹⁸ in double, rounded half away from zero),
/// the integers are added exactly, and the total goes back to double as its integer part plus its fraction.
/// (Checked against DuckDB on random non-negative terms; the kernels only sum non-negative terms, and refuse others.) Because the sum
/// is exact, a kernel and the SQL give identical bits whatever order they add in, so ties rank the same way.
/// </summary>
public static class ExactDecimalSum
{
    private const double Scale = 1e18;
    private static readonly Int128 ScaleInteger = Int128.Parse("1000000000000000000", System.Globalization.CultureInfo.InvariantCulture);

    private const long ScaleLong = 1_000_000_000_000_000_000;

    /// <summary>Scaled terms below this fit a long (2⁶³, with room for the rounding step).</summary>
    private const double LongRange = 9.2e18;

    /// <summary>Terms at or above this magnitude overflow DECIMAL(38, 18).</summary>
    public const double Limit = 1e20;

    /// <summary>The term as an integer number of 10⁻¹⁸ units.</summary>
    public static Int128 Term(double value)
    {
        if (!(value >= 0 && value < Limit))
            throw new OverflowException($"The term {value} is not in [0, 1e20): the kernels sum non-negative terms that fit DECIMAL(38, 18).");
        var scaled = value * Scale;
        // Most terms are below 9.2 (the long range at 18 decimals): a hardware conversion instead of the 128-bit one.
        return scaled < LongRange ? GridRound.Of(scaled) : GridRound.Wide(scaled);
    }

    /// <summary>The total back as DOUBLE, as the engine converts it: integer part plus fraction / 10¹⁸.</summary>
    public static double ToDouble(Int128 total)
    {
        if (total >= 0 && total <= long.MaxValue)
        {
            // The same split with hardware 64-bit division, far cheaper than the 128-bit one.
            var t = (long)total;
            var whole = t / ScaleLong;
            return whole + (double)(t - whole * ScaleLong) / Scale;
        }
        var integer = total / ScaleInteger;
        var fraction = total % ScaleInteger;
        return (double)integer + (double)(long)fraction / Scale;
    }
}
