using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Stages;

/// <summary>
/// affinity (SAR-style): how much each user cares about each item now.
/// affinity(u, i) = Σ over u's events on i of type_weight(event_type) · weight · 0.5^((as_of − t) / half_life).
/// The scope names the tables (offline evaluation builds a train copy from eval_train_clean_events).
/// </summary>
public sealed class AffinityStage(TableScope? scope = null) : SqlStage
{
    private readonly TableScope _scope = scope ?? TableScope.Main;

    public override string Name => _scope["affinity"];
    public override string Description => "one row per (user, item): time-decayed, type-weighted engagement";
    public override IReadOnlyList<string> Inputs => [_scope["clean_events"]];
    public override bool IsOutput => _scope == TableScope.Main;
    public override IReadOnlyList<string> OutputOrder => ["user_id", "item_id"];
    public override IReadOnlyList<string> UserIdColumns => ["user_id"];

    public override string Render(StageContext c)
    {
        var d = c.Dialect;
        var typeWeight = "CASE event_type\n" +
            string.Concat(c.Settings.Affinity.EventWeights.Select(kv => $"                WHEN {d.Literal(kv.Key)} THEN {d.Literal(kv.Value)}\n")) +
            $"                ELSE {d.Literal(0.0)}\n            END";
        var halfLifeSeconds = d.Literal(c.Settings.Affinity.HalfLifeDays * 86_400);
        var asOfSeconds = d.Literal((c.AsOf - DateTime.UnixEpoch).TotalSeconds);
        var weight = c.Settings.Affinity.WeightTransform == "log1p" ? d.Ln($"{d.Literal(1.0)} + weight") : "weight";
        return $"""
            -- {Name}: one row per (user_id, item_id).
            -- affinity = sum of type_weight * {weight} * 0.5 ^ (age_seconds / half_life_seconds), age measured back from as_of.
            -- The sum is exact (ExactSum), so the order rows arrive in cannot change the bits of a rerun.
            WITH weighted_events AS (
                SELECT
                    user_id,
                    item_id,
                    event_time,
                    {typeWeight}
                    * {weight}
                    * power({d.Literal(0.5)}, ({asOfSeconds} - {d.EpochSeconds("event_time")}) / {halfLifeSeconds}) AS contribution
                FROM {c.Q(_scope["clean_events"])}
            )
            SELECT
                user_id,
                item_id,
                {d.ExactSum("contribution")} AS affinity,
                count(*) AS event_count,
                max(event_time) AS last_event_time
            FROM weighted_events
            GROUP BY
                user_id,
                item_id
            """;
    }
}
