namespace SparkReco.Generator;

/// <summary>
/// When events happen: one weight per hour of the window, the product of a weekly rhythm (weekends
/// busier) and a daily rhythm (quiet nights, busy evenings). Hours are in UTC; a real platform would
/// shift them per time zone, which is not needed for a recommender's test data.
/// </summary>
internal sealed class Rhythm
{
    // Relative activity per hour of day, 00:00–23:00: low at night, a lunch bump, the peak at 19–22.
    private static readonly double[] HourOfDay =
    [
        0.45, 0.30, 0.20, 0.15, 0.15, 0.20, 0.35, 0.55,
        0.70, 0.75, 0.80, 0.85, 1.00, 0.95, 0.85, 0.85,
        0.90, 1.00, 1.20, 1.50, 1.70, 1.70, 1.40, 0.90,
    ];

    private readonly AliasTable _hours;
    private readonly long _startTicks;

    public Rhythm(DateTime endUtc, int days)
    {
        var start = endUtc.AddDays(-days);
        _startTicks = start.Ticks;
        var weights = new double[days * 24];
        for (var h = 0; h < weights.Length; h++)
        {
            var at = start.AddHours(h);
            weights[h] = DayOfWeekWeight(at.DayOfWeek) * HourOfDay[at.Hour];
        }

        _hours = new AliasTable(weights);
    }

    private static double DayOfWeekWeight(DayOfWeek day) => day switch
    {
        DayOfWeek.Saturday => 1.40,
        DayOfWeek.Sunday => 1.30,
        DayOfWeek.Friday => 1.10,
        _ => 1.00,
    };

    /// <summary>A UTC instant with whole seconds: an hour from the rhythm, a uniform second within it.</summary>
    public DateTime Sample(Xoshiro256 rng)
    {
        var hour = _hours.Sample(rng);
        var ticks = _startTicks + hour * TimeSpan.TicksPerHour + rng.NextInt(3600) * TimeSpan.TicksPerSecond;
        return new DateTime(ticks, DateTimeKind.Utc);
    }
}
