using System.Globalization;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// Mean and (population) standard deviation per feature, computed in SQL over a feature table, finished on the driver
/// and stored with the model; the engine reads them back from a registered one-row table when it applies the model.
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

    /// <summary>The standardisation from the one row of <see cref="RenderStats"/>.</summary>
    public static Standardisation FromStats(IReadOnlyList<string> features, IReadOnlyDictionary<string, object?> row)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(row);
        double Get(string key) => row[key] is null ? double.NaN : Convert.ToDouble(row[key], CultureInfo.InvariantCulture);
        var means = features.Select((_, i) => Get($"m{i}") is var m && double.IsFinite(m) ? m : 0.0).ToArray();
        // A constant feature (std 0) is centred but not scaled, so it contributes nothing and never divides by zero.
        var stds = features.Select((_, i) => Math.Sqrt(Math.Max(0, Get($"q{i}") - means[i] * means[i])) is var s && double.IsFinite(s) && s > 1e-12 ? s : 1.0).ToArray();
        return new Standardisation(features, means, stds);
    }

    /// <summary>The registered row: mean m{i} and standard deviation s{i} of every feature.</summary>
    public ColumnTable Row() => new(1,
        [
            .. Features.Select((_, i) => Column.Of($"m{i}", new[] { Means[i] })),
            .. Features.Select((_, i) => Column.Of($"s{i}", new[] { Stds[i] })),
        ]);

    public object Describe() =>
        Features.Select((f, i) => new { feature = f, mean = Means[i], std = Stds[i] }).ToArray();
}

/// <summary>
/// The SQL side of a standardisation: features of a table as z0, z1, … computed with the mean and standard deviation read
/// from the registered one-row table <see cref="Table"/> (alias <c>st</c>), so no fitted number is part of the SQL text.
/// </summary>
public sealed record StandardisedFeatures(IReadOnlyList<string> Features, string Table)
{
    public IReadOnlyList<(string Name, ColumnType Type)> Schema =>
        [.. Features.Select((_, i) => ($"m{i}", ColumnType.Real)), .. Features.Select((_, i) => ($"s{i}", ColumnType.Real))];

    /// <summary>Registers the standardisation the driver finished (<paramref name="fitted"/> is called at run time only).</summary>
    public RegisterStep Register(Func<Standardisation> fitted) =>
        new(Table, Schema, "one row: mean m{i} and standard deviation s{i} of each feature, z = (x - mean) / std", () => fitted().Row());

    /// <summary>The standardised value of feature <paramref name="index"/> as SQL (missing values count as the mean).</summary>
    public string Z(StageContext c, int index, string qualifier = "") =>
        $"(coalesce({qualifier}{c.Q(Features[index])}, st.m{index}) - st.m{index}) / st.s{index}";

    /// <summary>A SELECT list of z0, z1, … for every feature; the query must join <see cref="Join"/>.</summary>
    public string ZColumns(StageContext c, string qualifier = "", int indent = 4) =>
        string.Join(",\n" + new string(' ', indent), Features.Select((_, i) => $"{Z(c, i, qualifier)} AS z{i}"));

    /// <summary>The join that brings the registered row in as <c>st</c>.</summary>
    public string Join(StageContext c) => $"CROSS JOIN {c.Q(Table)} AS st";

    /// <summary>The CTE <c>standardised</c>: user_id and z0, z1, … of every user in <paramref name="table"/>; both models apply to it.</summary>
    public string StandardisedCte(StageContext c, string table) =>
        $"standardised AS (\n    SELECT\n        f.user_id,\n        {ZColumns(c, "f.", indent: 8)}\n    FROM {c.Q(table)} AS f\n    {Join(c)}\n)";

    /// <summary>Reads z0…z(n-1) of a pulled row as the float vector ML.NET takes.</summary>
    public float[] Vector(IReadOnlyDictionary<string, object?> row) =>
        Features.Select((_, i) => (float)Convert.ToDouble(row[$"z{i}"], CultureInfo.InvariantCulture)).ToArray();
}
