using SparkReco.Core.Stages;
using SparkReco.Modelling;

namespace SparkReco.Jobs.Stages.Modelling;

/// <summary>
/// metrics.json's "segments": the model, how k was chosen (ICL per k for the mixture, mean silhouette per k for
/// k-means; the other is null and not written) and how well the engine's assignment matches the driver's. No centroids,
/// mixture parameters or standardisation: with them, the mean features of a segment that k-anonymity withholds from segment_profiles could be
/// reconstructed exactly. Published figures follow the same suppression as the tables.
/// </summary>
public sealed record SegmentMetrics(
    string Model,
    int K,
    string KChosenBy,
    IReadOnlyDictionary<string, double>? SilhouetteByK,
    IReadOnlyDictionary<string, double>? IclByK,
    int SampleUsers,
    double? Inertia,
    double? LogLikelihood,
    double SqlVsDriverSampleAgreement,
    long Users) : IManifestFacts
{
    public IEnumerable<KeyValuePair<string, object>> ManifestFacts()
    {
        yield return new("segments.k", K);
    }
}

/// <summary>What k-anonymity did to segment_profiles: segments and users merged into the "other" row, and whether that row is shown.</summary>
public sealed record ProfileFacts(int KAnonymity, int SuppressedSegments, long SuppressedUsers, string OtherRow) : IManifestFacts
{
    public IEnumerable<KeyValuePair<string, object>> ManifestFacts()
    {
        yield return new("segment_profiles.k_anonymity", KAnonymity);
        yield return new("segment_profiles.suppressed_segments", SuppressedSegments);
        yield return new("segment_profiles.suppressed_users", SuppressedUsers);
        yield return new("segment_profiles.other_row", OtherRow);
    }
}

/// <summary>One class's exported parameters, as metrics.json lists them.</summary>
public sealed record ClassWeights(string Class, double Bias, IReadOnlyList<double> Weights);

/// <summary>One feature's standardisation, as metrics.json lists it.</summary>
public sealed record FeatureScale(string Feature, double Mean, double Std);

/// <summary>
/// One class's lift by decile on the hold-out: hold-out users ranked by their probability of the class, ten groups, and each
/// group's rate of users whose next engagement was in the class divided by the hold-out's rate (<see cref="Engaged"/> users).
/// No deciles when no hold-out user engaged with the class.
/// </summary>
public sealed record ClassLift(string Class, int Engaged, IReadOnlyList<DecileLift> Deciles);

/// <summary>
/// metrics.json's "propensity": the sample, the hold-out quality of the softmax model against two baselines, and the
/// exported model. Figures that do not apply stay null (not written): everything after <see cref="Skipped"/> when there
/// was no model, the hold-out figures when the hold-out is empty (<see cref="Holdout"/> says so).
/// </summary>
public sealed record PropensityMetrics
{
    public required string Target { get; init; }
    public required DateTime Cutoff { get; init; }
    public long LabelledUsers { get; set; }
    public int SampleUsers { get; set; }
    public int TrainUsers { get; set; }
    public int HoldoutUsers { get; set; }
    public string? Skipped { get; set; }
    public string? Holdout { get; set; }
    public double? HoldoutLogLoss { get; set; }
    public double? HoldoutAccuracy { get; set; }
    public string? BaselineMajorityClass { get; set; }
    public double? BaselineMajorityLogLoss { get; set; }
    public double? BaselineMajorityAccuracy { get; set; }
    public double? BaselinePriorLogLoss { get; set; }
    public double? BaselinePriorAccuracy { get; set; }
    public IReadOnlyList<ClassLift>? LiftByDecile { get; set; }
    public double? LogLossClip { get; set; }
    public double? SqlVsMlnetMaxAbsDiff { get; set; }
    public IReadOnlyList<string>? Classes { get; set; }
    public IReadOnlyList<FeatureScale>? Standardisation { get; set; }
    public IReadOnlyList<ClassWeights>? Weights { get; set; }
}
