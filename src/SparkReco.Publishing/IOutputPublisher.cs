using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// How a run's outputs become visible to readers. The runner writes every table and run file into the folder
/// <see cref="CreateStaging"/> gives, then calls <see cref="Publish"/>; a run that fails before that leaves what readers
/// see unchanged. Called only while holding the <see cref="OutputLock"/>.
/// </summary>
public interface IOutputPublisher
{
    /// <summary>The output folder (absolute).</summary>
    string OutputDirectory { get; }

    /// <summary>Repairs what a killed run left; one line per repair, for the log.</summary>
    IReadOnlyList<string> Recover();

    /// <summary>Where a published run's tables and files are for readers (the output folder, or the run's own folder).</summary>
    string PublishedFolder(string runId);

    /// <summary>The folder this run writes its tables and files into.</summary>
    string CreateStaging(string runId);

    /// <summary>Makes the staged run the one readers see, manifest and <c>_SUCCESS</c> included.</summary>
    void Publish(string staging, RunManifest manifest);
}

/// <summary>Chooses the publish protocol for a run's settings.</summary>
public static class OutputPublishers
{
    /// <summary>
    /// The embedded engine writes on this machine, where a folder rename is atomic: <see cref="OutputPublisher"/> swaps the
    /// tables in place. Spark writes from its executors, typically to object stores that cannot rename a folder
    /// atomically: <see cref="RunFolderPublisher"/> publishes each run in its own folder and points at it last.
    /// </summary>
    public static IOutputPublisher For(JobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Engine.Kind != "spark") return new OutputPublisher(settings.Output.Path);
        return new RunFolderPublisher(RunFolderPublisher.LocalPath(settings.Output.Path));
    }
}
