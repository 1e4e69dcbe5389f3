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

    public override string Render(StageContext c)
    {
        var d = c.Dialect;
        var typeWeight = "CASE event_type\n" +
            string.Concat(c.Settings.Affinity.EventWeights.Select(kv => $"                WHEN {d.Literal(kv.Key)} THEN {d.Literal(kv.Value)}\n")) +
            $"                ELSE {d.Literal(0.0)}\n            END";
        var halfLifeSeconds = d.Literal(c.Settings.Affinity.HalfLifeDays * 86_400);
        var asOfSeconds = d.Literal((c.AsOf - DateTime.UnixEpoch).TotalSeconds);
        // One event's contribution; the sum is order-independent (SumDouble) so reruns give identical bits.
        var term = $"\n        {typeWeight}\n        * weight\n        * power({d.Literal(0.5)}, ({asOfSeconds} - {d.EpochSeconds("event_time")}) / {halfLifeSeconds})\n    ";
        return $"""
            -- {Name}: one row per (user_id, item_id).
            -- affinity = sum of type_weight * weight * 0.5 ^ (age_seconds / half_life_seconds), age measured back from as_of.
            SELECT
                user_id,
                item_id,
                {d.SumDouble(term)} AS affinity,
                count(*) AS event_count,
                max(event_time) AS last_event_time
            FROM {c.Q(_scope["clean_events"])}
            GROUP BY
                user_id,
                item_id
            """;
    }
}
