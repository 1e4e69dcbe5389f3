namespace SparkReco.Jobs.Running;

/// <summary>The files every run publishes beside its tables.</summary>
public static class RunArtifacts
{
    public static IReadOnlyList<IRunArtifact> All() => [];
}
