using SparkReco.Jobs.Reporting;

namespace SparkReco.Jobs.Running;

/// <summary>The files every run publishes beside its tables.</summary>
public static class RunArtifacts
{
    /// <summary>Sections of report.html; each capability adds its own.</summary>
    public static IReadOnlyList<IReportSection> ReportSections() =>
    [
        new OverviewSection(),
        new RecommendationSection(),
        new SegmentsSection(),
        new ScoresSection(),
    ];

    public static IReadOnlyList<IRunArtifact> All() => [new MetricsArtifact(), new ReportArtifact(ReportSections())];
}
