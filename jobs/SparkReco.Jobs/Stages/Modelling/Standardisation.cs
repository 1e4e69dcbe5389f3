using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// Mean and (population) standard deviation per feature, computed in SQL over a feature table and
/// stored with the model: the engine standardises with exactly these literals when it applies the model.
/// </summary>
public sealed record Standardisation(IReadOnlyList<string> Features, IReadOnlyList<double> Means, IReadOnlyList<double> Stds)
{
    public static string RenderStats(StageContext c, string table, IReadOnlyList<string> features) =>
        $"""
        -- standardisation of {table}: mean and mean square per feature (exact sums, so reruns agree to the bit);
        -- the population standard deviation is sqrt(mean square - mean^2)
        SELECT
            {string.Join(",\n    ", features.Select((f, i) => $"{c.Dialect.ExactAvg(c.Q(f))} AS m{i},\n    {c.Dialect.ExactAvg($"{c.Q(f)} * {c.Q(f)}")} AS q{i}"))}
        FROM {c.Q(table)}
        """;

    public static async Task<Standardisation> ComputeAsync(IEngine engine, StageContext c, string table, IReadOnlyList<string> features, CancellationToken ct)
    {
        var row = (await engine.QueryAsync(RenderStats(c, table, features), ct))[0];
        double Get(string key) => row[key] is null ? double.NaN : Convert.ToDouble(row[key], CultureInfo.InvariantCulture);
        var means = features.Select((_, i) => Get($"m{i}") is var m && double.IsFinite(m) ? m : 0.0).ToArray();
        // A constant feature (std 0) is centred but not scaled, so it contributes nothing and never divides by zero.
        var stds = features.Select((_, i) => Math.Sqrt(Math.Max(0, Get($"q{i}") - means[i] * means[i])) is var s && double.IsFinite(s) && s > 1e-12 ? s : 1.0).ToArray();
        return new Standardisation(features, means, stds);
    }

    /// <summary>The standardised value of feature <paramref name="index"/> as SQL (missing values count as the mean).</summary>
    public string Z(StageContext c, int index, string qualifier = "") =>
        $"(coalesce({qualifier}{c.Q(Features[index])}, {c.Dialect.Literal(Means[index])}) - {c.Dialect.Literal(Means[index])}) / {c.Dialect.Literal(Stds[index])}";

    /// <summary>A SELECT list of z0, z1, … for every feature.</summary>
    public string ZColumns(StageContext c, string qualifier = "", int indent = 4) =>
        string.Join(",\n" + new string(' ', indent), Features.Select((_, i) => $"{Z(c, i, qualifier)} AS z{i}"));

    /// <summary>The CTE <c>standardised</c>: user_id and z0, z1, … of every user in <paramref name="table"/>; both models apply to it.</summary>
    public string StandardisedCte(StageContext c, string table) =>
        $"standardised AS (\n    SELECT\n        user_id,\n        {ZColumns(c, indent: 8)}\n    FROM {c.Q(table)}\n)";

    public object Describe() =>
        Features.Select((f, i) => new { feature = f, mean = Means[i], std = Stds[i] }).ToArray();

    /// <summary>Reads z0…z(n-1) of a pulled row as the float vector ML.NET takes.</summary>
    public float[] Vector(IReadOnlyDictionary<string, object?> row) =>
        Features.Select((_, i) => (float)Convert.ToDouble(row[$"z{i}"], CultureInfo.InvariantCulture)).ToArray();
}
