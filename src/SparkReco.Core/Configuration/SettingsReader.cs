using System.Globalization;
using Microsoft.Extensions.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Core.Configuration;

/// <summary>
/// Reads typed settings out of an <see cref="IConfiguration"/> and explains every bad value by key,
/// value and what is allowed. It remembers which keys it was asked for, so a key nobody reads
/// (usually a typo) is reported instead of silently ignored. Every read also records the default
/// and a description, which is how <c>sparkreco settings</c> and the README table stay true.
/// </summary>
public sealed class SettingsReader
{
    private readonly IConfiguration _configuration;
    private readonly List<string> _problems = [];
    private readonly Dictionary<string, SettingInfo> _known = new(StringComparer.OrdinalIgnoreCase);

    public SettingsReader(IConfiguration configuration) => _configuration = configuration;

    /// <summary>Every setting read so far with its default and description, in reading order.</summary>
    public IReadOnlyCollection<SettingInfo> Known => _known.Values;

    public string GetString(string key, string defaultValue, string description, IReadOnlyCollection<string>? allowed = null)
    {
        Remember(key, defaultValue, description, allowed);
        var raw = _configuration[key];
        if (raw is null) return defaultValue;
        var value = raw.Trim();
        if (allowed is not null && !allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
        {
            Problem(key, raw, $"one of {string.Join(", ", allowed)}");
            return defaultValue;
        }
        return allowed is null ? value : allowed.First(a => string.Equals(a, value, StringComparison.OrdinalIgnoreCase));
    }

    public string? GetOptionalString(string key, string description)
    {
        Remember(key, "(none)", description, null);
        var raw = _configuration[key];
        return string.IsNullOrWhiteSpace(raw) ? null : raw.Trim();
    }

    public int GetInt(string key, int defaultValue, string description, int min = int.MinValue, int max = int.MaxValue)
    {
        Remember(key, defaultValue.ToString(CultureInfo.InvariantCulture), description, null);
        var raw = _configuration[key];
        if (raw is null) return defaultValue;
        if (!int.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
        {
            Problem(key, raw, Range("a whole number", min, max));
            return defaultValue;
        }
        return value;
    }

    public double GetDouble(string key, double defaultValue, string description, double min = double.MinValue, double max = double.MaxValue)
    {
        Remember(key, defaultValue.ToString(CultureInfo.InvariantCulture), description, null);
        var raw = _configuration[key];
        if (raw is null) return defaultValue;
        if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || double.IsNaN(value) || value < min || value > max)
        {
            Problem(key, raw, Range("a number", min, max));
            return defaultValue;
        }
        return value;
    }

    public bool GetBool(string key, bool defaultValue, string description)
    {
        Remember(key, defaultValue ? "true" : "false", description, ["true", "false"]);
        var raw = _configuration[key];
        if (raw is null) return defaultValue;
        if (!bool.TryParse(raw, out var value))
        {
            Problem(key, raw, "true or false");
            return defaultValue;
        }
        return value;
    }

    /// <summary>An instant in UTC, written ISO-8601 (e.g. 2026-11-01T00:00:00Z); empty means "not set".</summary>
    public DateTime? GetTimestamp(string key, string description)
    {
        Remember(key, "(latest event time)", description, null);
        var raw = _configuration[key];
        if (string.IsNullOrWhiteSpace(raw)) return null;
        if (!DateTime.TryParse(raw, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var value))
        {
            Problem(key, raw, "an ISO-8601 timestamp such as 2026-11-01T00:00:00Z");
            return null;
        }
        return DateTime.SpecifyKind(value, DateTimeKind.Utc);
    }

    /// <summary>A map section such as <c>Affinity:EventWeights</c>; keys keep their case as written.</summary>
    public IReadOnlyDictionary<string, double> GetDoubleMap(string section, IReadOnlyDictionary<string, double> defaults, string description, double min, double max)
    {
        Remember(section, string.Join(", ", defaults.Select(kv => $"{kv.Key}={kv.Value.ToString(CultureInfo.InvariantCulture)}")), description, null);
        var children = _configuration.GetSection(section).GetChildren().ToList();
        if (children.Count == 0) return defaults;
        var result = new SortedDictionary<string, double>(StringComparer.Ordinal);
        foreach (var child in children)
        {
            var key = $"{section}:{child.Key}";
            if (!double.TryParse(child.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                Problem(key, child.Value ?? "(a section)", Range("a number", min, max));
                continue;
            }
            result[child.Key] = value;
        }
        return result;
    }

    public void Problem(string key, string value, string expected) =>
        _problems.Add($"setting '{key}' has value '{value}'; expected {expected}.");

    public void Problem(string message) => _problems.Add(message);

    /// <summary>
    /// Throws one <see cref="ConfigurationException"/> listing every problem, including keys that no
    /// section reads (typos), with the closest known key as a suggestion.
    /// </summary>
    public void ThrowIfInvalid()
    {
        foreach (var (key, value) in _configuration.AsEnumerable())
        {
            if (value is null || IsKnown(key)) continue;
            var suggestion = Suggest(key);
            _problems.Add($"setting '{key}' is not a SparkReco setting" + (suggestion is null ? "." : $"; did you mean '{suggestion}'?"));
        }
        if (_problems.Count > 0)
            throw new ConfigurationException("Invalid configuration:" + Environment.NewLine + string.Join(Environment.NewLine, _problems.Select(p => "  - " + p)));
    }

    private bool IsKnown(string key)
    {
        if (_known.ContainsKey(key)) return true;
        // Children of map settings (e.g. Affinity:EventWeights:view) belong to their map.
        var cut = key.LastIndexOf(':');
        return cut > 0 && _known.ContainsKey(key[..cut]);
    }

    private string? Suggest(string key)
    {
        static int Distance(string a, string b)
        {
            a = a.ToUpperInvariant(); b = b.ToUpperInvariant();
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (var j = 0; j <= b.Length; j++) d[0, j] = j;
            for (var i = 1; i <= a.Length; i++)
                for (var j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }
        var best = _known.Keys.Select(k => (k, d: Distance(k, key))).OrderBy(x => x.d).FirstOrDefault();
        return best.k is not null && best.d <= Math.Max(3, key.Length / 3) ? best.k : null;
    }

    private void Remember(string key, string defaultValue, string description, IReadOnlyCollection<string>? allowed) =>
        _known[key] = new SettingInfo(key, defaultValue, description, allowed);

    private static string Range(string what, double min, double max) =>
        (min, max) switch
        {
            (double.MinValue or int.MinValue, double.MaxValue or int.MaxValue) => what,
            (_, double.MaxValue or int.MaxValue) => $"{what} >= {min.ToString(CultureInfo.InvariantCulture)}",
            _ => $"{what} between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}",
        };
}

/// <summary>One documented setting.</summary>
public sealed record SettingInfo(string Key, string Default, string Description, IReadOnlyCollection<string>? Allowed);
