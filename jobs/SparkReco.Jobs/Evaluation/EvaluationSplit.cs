using System.Globalization;
using SparkReco.Core.Stages;

namespace SparkReco.Jobs.Evaluation;

/// <summary>
/// How the evaluation separated its test side, as a typed fact read from the run's settings and as_of (not from the
/// string-keyed metrics), so the report and the CLI describe every mode: temporal, random and files.
/// </summary>
public sealed record EvaluationSplit(string Mode, DateTime? Cutoff, double? TestFraction, long? Seed, string? TestFile)
{
    public static EvaluationSplit Of(StageContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var e = context.Settings.Evaluation;
        return e.Mode switch
        {
            "random" => new EvaluationSplit(e.Mode, null, e.TestFraction, e.Seed, null),
            "files" => new EvaluationSplit(e.Mode, null, null, null, e.TestEvents),
            _ => new EvaluationSplit(e.Mode, EvaluationStage.Cutoff(context), null, null, null),
        };
    }

    /// <summary>One line such as "temporal split at 2026-10-25T00:00:00Z".</summary>
    public string Description => Mode switch
    {
        "random" => string.Create(CultureInfo.InvariantCulture, $"random split holding out {TestFraction} of each user's items (seed {Seed})"),
        "files" => $"test file {TestFile}",
        _ => $"temporal split at {Cutoff:yyyy-MM-ddTHH:mm:ssZ}",
    };
}
