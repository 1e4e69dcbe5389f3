namespace SparkReco.Jobs.Evaluation;

/// <summary>The metrics of one evaluated source at K, means over the test users (null where the engine had no value).</summary>
public sealed record SourceMetrics(
    long Users,
    double? PrecisionAtK,
    double? RecallAtK,
    double? NdcgAtK,
    double? MapAtK,
    double? HitRateAtK,
    double? CoverageAtK,
    double? MeanPopularity,
    double? HistoryMeanPopularity);

/// <summary>
/// metrics.json's "evaluation", what evaluate prints and what the report shows: the split (its fields depend on the
/// mode, see <see cref="EvaluationSplit"/>), the sizes of the test population and the metrics per source.
/// </summary>
public sealed record EvaluationMetrics
{
    public required string Mode { get; init; }
    public required long K { get; init; }
    public string? Cutoff { get; init; }
    public double? TestFraction { get; init; }
    public long? Seed { get; init; }
    public string? TestFile { get; init; }
    public long TrainEvents { get; set; }
    public long TestPairs { get; set; }
    public long TestUsersAll { get; set; }
    public long TestUsers { get; set; }

    /// <summary>Test users without training history: scored on the popularity back-fill list.</summary>
    public long ColdTestUsers { get; set; }
    public long RelevantPairs { get; set; }
    public long CatalogueItems { get; set; }

    /// <summary>Per source (<see cref="EvaluationStage.Sources"/>), in name order.</summary>
    public IReadOnlyDictionary<string, SourceMetrics> Sources { get; set; } = new SortedDictionary<string, SourceMetrics>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Definitions { get; } = new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["users"] = "test users: every user with a held-out item; those without training history (cold_test_users) are scored on the popularity back-fill list; metrics are means over them",
        ["precision_at_k"] = "hits in the top K / K",
        ["recall_at_k"] = "hits in the top K / held-out items",
        ["ndcg_at_k"] = "sum over hits of 1/log2(rank+1), divided by the ideal for min(K, held-out items) hits",
        ["map_at_k"] = "sum over hits of precision at the hit's rank, divided by min(K, held-out items)",
        ["hit_rate_at_k"] = "share of test users with at least one hit in the top K",
        ["coverage_at_k"] = "distinct items in the test users' top K / items in the train catalogue",
        ["mean_popularity"] = "mean number of train users of the recommended items (history_mean_popularity: of the test users' train items)",
    };
}
