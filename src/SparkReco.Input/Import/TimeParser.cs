using System.Globalization;
using SparkReco.Core.Errors;

namespace SparkReco.Input.Import;

/// <summary>
/// Parses event times to UTC. With <c>auto</c> the format is decided by the first value (digits: epoch
/// seconds, or milliseconds from 10^11 on, which as seconds would be beyond the year 5000; otherwise
/// ISO-8601) and then held for the whole file, so one odd value is reported instead of silently read
/// in another unit.
/// </summary>
internal sealed class TimeParser
{
    public const string Auto = "auto";
    public const string EpochSeconds = "epoch-seconds";
    public const string EpochMillis = "epoch-millis";
    public const string Iso = "iso";

    private static readonly DateTime Earliest = DateTime.UnixEpoch;
    private static readonly DateTime Latest = new(2200, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private string? _format;

    public TimeParser(string format)
    {
        _format = format switch
        {
            Auto => null,
            EpochSeconds or EpochMillis or Iso => format,
            _ => throw new ConfigurationException(
                $"Import option TimeFormat '{format}' is not known; use {Auto}, {EpochSeconds}, {EpochMillis} or {Iso}."),
        };
    }

    /// <summary>What the parser expects, for error messages.</summary>
    public string Describe() => _format switch
    {
        null => "epoch-seconds, epoch-millis or ISO-8601",
        Iso => "ISO-8601",
        _ => _format,
    };

    public bool TryParse(string text, out DateTime utc)
    {
        var value = text.AsSpan().Trim();
        var format = _format ?? Detect(value);
        var ok = format switch
        {
            EpochSeconds => TryEpoch(value, TimeSpan.TicksPerSecond, out utc),
            EpochMillis => TryEpoch(value, TimeSpan.TicksPerMillisecond, out utc),
            _ => TryIso(value, out utc),
        };
        if (ok && _format is null)
        {
            _format = format;
        }

        return ok;
    }

    private static string Detect(ReadOnlySpan<char> value)
    {
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return Iso;
        }

        return Math.Abs(number) >= 1e11 ? EpochMillis : EpochSeconds;
    }

    private static bool TryEpoch(ReadOnlySpan<char> value, long ticksPerUnit, out DateTime utc)
    {
        utc = default;
        var latestUnits = (Latest - DateTime.UnixEpoch).Ticks / ticksPerUnit;

        // Bounds before multiplying so a value in the wrong unit is rejected rather than overflowing.
        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            if (whole < 0 || whole >= latestUnits)
            {
                return false;
            }

            utc = DateTime.UnixEpoch.AddTicks(whole * ticksPerUnit);
            return true;
        }

        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var units) || !(units >= 0 && units < latestUnits))
        {
            return false;
        }

        utc = DateTime.UnixEpoch.AddTicks((long)(units * ticksPerUnit));
        return true;
    }

    /// <summary>ISO-8601 date-time (T or space separator); without an offset the time is taken as UTC.</summary>
    private static bool TryIso(ReadOnlySpan<char> value, out DateTime utc)
    {
        utc = default;
        // Require the year-month-day prefix: DateTimeOffset.TryParse alone would accept "3/4/2024", whose meaning is ambiguous.
        if (value.Length < 10 || !char.IsAsciiDigit(value[0]) || value[4] != '-' || value[7] != '-')
        {
            return false;
        }

        if (!DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return false;
        }

        utc = parsed.UtcDateTime;
        return utc >= Earliest && utc < Latest;
    }
}
