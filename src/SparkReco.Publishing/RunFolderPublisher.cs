using SparkReco.Core.Engine;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// Publishing without an atomic rename (the Spark engine: executors write the tables, object stores cannot rename
/// folders). Each run writes into its own folder, <c>&lt;output&gt;/runs/&lt;run_id&gt;/&lt;table&gt;/</c>; when every
/// table and run file is there, the driver writes <c>manifest.json</c>, then <c>_SUCCESS</c> in that folder, and last
/// the pointer <c>&lt;output&gt;/_LATEST</c> holding the run id. Nothing a reader trusts is ever changed in place:
/// a killed run leaves a run folder without <c>_SUCCESS</c> that no pointer names.
/// </summary>
/// <remarks>
/// A reader reads <c>_LATEST</c>, checks that <c>runs/&lt;id&gt;/_SUCCESS</c> exists, takes the tables and row counts from
/// <c>runs/&lt;id&gt;/manifest.json</c>, and reads only the tables it lists (README, "Publishing on Spark"). Earlier
/// successful runs stay (a reader that resolved the pointer before a new run keeps reading complete data); removing old
/// ones is left to the data lake's retention rules.
/// </remarks>
public sealed class RunFolderPublisher : IOutputPublisher
{
    public const string RunsFolder = "runs";
    public const string LatestFileName = "_LATEST";
    private const string TempSuffix = ".tmp";

    private readonly string _output;

    public RunFolderPublisher(string outputDirectory)
    {
        _output = Path.GetFullPath(outputDirectory);
    }

    public string OutputDirectory => _output;

    /// <summary>
    /// The driver writes the manifest, <c>_SUCCESS</c> and the pointer with local file I/O, so the output must be a local
    /// path or a <c>file://</c> URL (a folder the Spark server sees at the same place: the same machine, or a shared mount).
    /// Object-store URLs are published by <see cref="LakeRunFolderPublisher"/>.
    /// </summary>
    public static string LocalPath(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (output.StartsWith("file://", StringComparison.OrdinalIgnoreCase)) return new Uri(output).LocalPath;
        if (LakePaths.IsRemote(output))
            throw new ArgumentException($"'{output}' is an object-store URL; it is published by {nameof(LakeRunFolderPublisher)}.", nameof(output));
        return output;
    }

    public IReadOnlyList<string> Recover()
    {
        var notes = new List<string>();
        var runs = Path.Combine(_output, RunsFolder);
        try
        {
            if (!Directory.Exists(runs)) return notes;
            var latest = ReadLatest();
            foreach (var run in Directory.EnumerateDirectories(runs))
            {
                var id = Path.GetFileName(run);
                if (id == latest || File.Exists(Path.Combine(run, OutputPublisher.SuccessFileName))) continue;
                // No _SUCCESS and not pointed at: a run that died (we hold the lock, so none is running).
                Directory.Delete(run, recursive: true);
                notes.Add($"removed run folder '{RunsFolder}/{id}' left incomplete by a run that did not finish");
            }
            var temp = Path.Combine(_output, LatestFileName + TempSuffix);
            if (File.Exists(temp)) File.Delete(temp);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PublishException($"Cannot clean up incomplete runs in '{runs}': {e.Message}. Check permissions and free space on Output:Path; published runs are untouched.", e);
        }
        return notes;
    }

    /// <summary>Each run stays in its own folder, which <c>_LATEST</c> points at.</summary>
    public string PublishedFolder(string runId) => Path.Combine(_output, RunsFolder, runId);

    public string CreateStaging(string runId)
    {
        var folder = Path.Combine(_output, RunsFolder, runId);
        try
        {
            Directory.CreateDirectory(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PublishException($"Cannot create the run folder '{folder}': {e.Message}. Check that Output:Path is writable and has free space.", e);
        }
        return folder;
    }

    public Task PublishAsync(string staging, RunManifest manifest, CancellationToken cancellationToken)
    {
        Publish(staging, manifest);
        return Task.CompletedTask;
    }

    public void Publish(string staging, RunManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        try
        {
            foreach (var table in manifest.RowCounts.Keys)
                if (!Directory.Exists(Path.Combine(staging, table)))
                    throw new PublishException($"Table '{table}' is missing from the run folder '{staging}' after the engine wrote it: the Spark server does not write where this driver reads. " +
                        "Output:Path must be a folder the server sees at the same place (the same machine, or a shared mount).");
            // Order is the protocol: manifest, then _SUCCESS (the run is complete), then the pointer (readers move to it).
            WriteAtomically(Path.Combine(staging, OutputPublisher.ManifestFileName), manifest.ToJson());
            WriteAtomically(Path.Combine(staging, OutputPublisher.SuccessFileName), "");
            WriteAtomically(Path.Combine(_output, LatestFileName), manifest.RunId + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PublishException($"Publishing run {manifest.RunId} to '{_output}' failed: {e.Message}. Readers still see the previous run ({LatestFileName} was not changed, or names a complete run); fix the cause and run again.", e);
        }
    }

    /// <summary>The run id <c>_LATEST</c> names, or null before the first published run.</summary>
    public string? ReadLatest()
    {
        var path = Path.Combine(_output, LatestFileName);
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + TempSuffix;
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
