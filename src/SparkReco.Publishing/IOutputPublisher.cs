using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// How a run's outputs become visible to readers. The runner writes every table into <see cref="TableFolder"/> and every
/// run file into <see cref="FilesFolder"/> of the staging <see cref="CreateStaging"/> gives, then calls
/// <see cref="PublishAsync"/>; a run that fails before that leaves what readers see unchanged. Local outputs are written
/// only while holding the <see cref="OutputLock"/>; an object-store output has no lock (<see cref="LakeRunFolderPublisher"/>).
/// </summary>
public interface IOutputPublisher
{
    /// <summary>The output folder (absolute), or the output URL on an object store.</summary>
    string OutputDirectory { get; }

    /// <summary>Repairs what a killed run left; one line per repair, for the log.</summary>
    IReadOnlyList<string> Recover();

    /// <summary>Where a published run's tables and files are for readers (the output folder, or the run's own folder).</summary>
    string PublishedFolder(string runId);

    /// <summary>The folder this run writes its tables and files into.</summary>
    string CreateStaging(string runId);

    /// <summary>Where the engine writes table <paramref name="table"/> of the staged run.</summary>
    string TableFolder(string staging, string table) => Path.Combine(staging, table);

    /// <summary>The folder on this machine where the run files (metrics.json, report.html) are written before publishing.</summary>
    string FilesFolder(string staging) => staging;

    /// <summary>The staged tables as the manifest describes them: rows, bytes and schema, from what was written.</summary>
    Task<IReadOnlyDictionary<string, ManifestTable>> DescribeAsync(string staging, IEnumerable<string> tables, CancellationToken cancellationToken) =>
        PublishedTables.DescribeAsync(staging, tables, cancellationToken);

    /// <summary>Makes the staged run the one readers see, manifest and <c>_SUCCESS</c> included.</summary>
    Task PublishAsync(string staging, RunManifest manifest, CancellationToken cancellationToken);

    /// <summary>Removes what a failed run staged, where that can be done (the staging folder is this run's alone).</summary>
    void Discard(string staging)
    {
        try
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
        catch (IOException)
        {
            // The next run removes leftover staging folders (Recover).
        }
    }
}

/// <summary>Chooses the publish protocol for a run's settings.</summary>
public static class OutputPublishers
{
    /// <summary>
    /// Whether Output:Path is on an object store (a URL with a scheme other than file://). Only the Spark engine writes there
    /// (<see cref="ForLake"/>); the embedded engine refuses it naming the setting (exit 2).
    /// </summary>
    public static bool IsLake(JobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (LakePaths.RemoteScheme(settings.Output.Path) is not { } scheme) return false;
        if (settings.Engine.Kind != "spark")
            throw new ConfigurationException(
                $"setting 'Output:Path' is '{settings.Output.Path}', a {scheme}:// URL; the embedded engine (DuckDB) writes local folders only. " +
                "Use a local folder (or a lake mounted at a local path), or run with the Spark engine (Engine:Kind=spark), which writes object-store outputs through the Spark server.");
        return true;
    }

    /// <summary>
    /// The embedded engine writes on this machine, where a folder rename is atomic: <see cref="OutputPublisher"/> swaps the
    /// tables in place. Spark writes from its executors, which cannot rename a folder atomically on object stores:
    /// <see cref="RunFolderPublisher"/> publishes each run in its own folder and points at it last. An object-store output
    /// needs the engine to write the run files: <see cref="ForLake"/>.
    /// </summary>
    public static IOutputPublisher For(JobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (IsLake(settings))
            throw new InvalidOperationException("An object-store Output:Path is published through the engine: call OutputPublishers.ForLake.");
        if (settings.Engine.Kind != "spark") return new OutputPublisher(settings.Output.Path);
        return new RunFolderPublisher(RunFolderPublisher.LocalPath(settings.Output.Path));
    }

    /// <summary>An object-store Output:Path on the Spark engine: run folders, every file written through the engine.</summary>
    public static IOutputPublisher ForLake(JobSettings settings, ILakeFiles lake)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new LakeRunFolderPublisher(settings.Output.Path, lake);
    }
}
