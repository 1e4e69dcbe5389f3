using SparkReco.Core.Engine;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// Run folders on an object store (s3a://, abfss://, gs://, …), written entirely by the Spark server: this machine cannot
/// write there, and the store cannot rename a folder atomically. The engine writes the tables into
/// <c>&lt;output&gt;/runs/&lt;run_id&gt;/&lt;table&gt;/</c>; then each small file goes through the engine as a one-line text data
/// set (<see cref="ILakeFiles.WriteTextAsync"/>), so a file F is a folder <c>F/</c> holding one <c>part-*.txt</c> with F's
/// content: the run files (metrics.json, report.html), then <c>manifest.json</c>, then <c>_SUCCESS</c> (its part file
/// holds the run id), and last the run id appended to <c>&lt;output&gt;/_LATEST/</c>.
/// </summary>
/// <remarks>
/// <para><c>_LATEST</c> is appended to, never replaced: a replacing write deletes the folder before the new part file is
/// committed, and a reader in between would find no pointer at all. Each published run adds one part file holding its run
/// id; the latest run is the greatest run id among them (ids start with the run's UTC start time, so they sort by it).</para>
/// <para>No output lock and no clean-up: an object store has no exclusive create this build can reach through Spark
/// Connect, and Spark Connect cannot list or delete files. Two runs at once each write their own run folder and the later
/// id wins the pointer, so nothing a reader trusts is damaged; the scheduler must still serialise runs on one output (the
/// runner logs this). A failed run's folder stays without <c>_SUCCESS</c> and unnamed by <c>_LATEST</c>; the store's
/// lifecycle rules remove old run folders.</para>
/// </remarks>
public sealed class LakeRunFolderPublisher : IOutputPublisher
{
    private readonly string _output;
    private readonly ILakeFiles _lake;
    private readonly string _localFiles = Path.Combine(Path.GetTempPath(), "sparkreco-run-files-" + Guid.NewGuid().ToString("N"));

    public LakeRunFolderPublisher(string output, ILakeFiles lake)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output.TrimEnd('/');
        _lake = lake;
    }

    public string OutputDirectory => _output;

    /// <summary>Nothing can be repaired from here: Spark Connect neither lists nor deletes files (see the remarks).</summary>
    public IReadOnlyList<string> Recover() => [];

    public string PublishedFolder(string runId) => LakePaths.Join(LakePaths.Join(_output, RunFolderPublisher.RunsFolder), runId);

    /// <summary>The run folder's URL: Spark creates it with the first table it writes.</summary>
    public string CreateStaging(string runId)
    {
        Directory.CreateDirectory(_localFiles);
        return PublishedFolder(runId);
    }

    public string TableFolder(string staging, string table) => LakePaths.Join(staging, table);

    /// <summary>The run files are made on this machine first, then written through the engine by <see cref="PublishAsync"/>.</summary>
    public string FilesFolder(string staging) => _localFiles;

    /// <summary>Per table, the schema Spark reads back and the rows and bytes of its Parquet files (files with no row are not counted).</summary>
    public async Task<IReadOnlyDictionary<string, ManifestTable>> DescribeAsync(string staging, IEnumerable<string> tables, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var described = new SortedDictionary<string, ManifestTable>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            var folder = TableFolder(staging, table);
            try
            {
                var schema = await _lake.ParquetSchemaAsync(folder, cancellationToken);
                var files = await _lake.ParquetFilesAsync(folder, cancellationToken);
                described[table] = new ManifestTable(table, files.Sum(f => f.Rows), files.Sum(f => f.Bytes), schema.Select(c => new ManifestColumn(c.Name, ManifestType(c))).ToList());
            }
            catch (EngineException e) when (e.ErrorClass == ILakeFiles.PathNotFound || e.Message.Contains("Path does not exist", StringComparison.OrdinalIgnoreCase))
            {
                throw new PublishException($"Table '{table}' is missing from the run folder '{staging}' after the engine wrote it ({e.Message.Split('\n')[0]}). " +
                    "Check Output:Path and the cluster's write access to it; the previous run is still the one _LATEST names.", e);
            }
        }
        return described;
    }

    public async Task PublishAsync(string staging, RunManifest manifest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        try
        {
            // Order is the protocol: run files, manifest, _SUCCESS (the run is complete), then the pointer (readers move to it).
            foreach (var file in manifest.Files)
                await _lake.WriteTextAsync(LakePaths.Join(staging, file), await File.ReadAllTextAsync(Path.Combine(_localFiles, file), cancellationToken), append: false, cancellationToken);
            await _lake.WriteTextAsync(LakePaths.Join(staging, OutputPublisher.ManifestFileName), manifest.ToJson(), append: false, cancellationToken);
            await _lake.WriteTextAsync(LakePaths.Join(staging, OutputPublisher.SuccessFileName), manifest.RunId, append: false, cancellationToken);
            await _lake.WriteTextAsync(LakePaths.Join(_output, RunFolderPublisher.LatestFileName), manifest.RunId, append: true, cancellationToken);
        }
        catch (EngineException e)
        {
            throw new PublishException($"Publishing run {manifest.RunId} to '{_output}' (setting 'Output:Path') failed: {e.Message.Split('\n')[0]}. " +
                $"Readers still see the previous run ({RunFolderPublisher.LatestFileName} gets this run's id only after its _SUCCESS); fix the cause and run again.", e);
        }
        Discard(staging);
    }

    /// <summary>Removes the local copies of the run files; the run folder on the store stays (no delete through Spark Connect).</summary>
    public void Discard(string staging)
    {
        try
        {
            if (Directory.Exists(_localFiles)) Directory.Delete(_localFiles, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder: the system's temp clean-up removes it.
        }
    }

    /// <summary>The manifest's type names as <see cref="PublishedTables.Describe"/> gives them for local tables.</summary>
    public static string ManifestType(LakeColumn column)
    {
        ArgumentNullException.ThrowIfNull(column);
        return column.TypeName switch
        {
            "string" or "char" or "varchar" => "string",
            "bigint" => "int64",
            "int" => "int32",
            "smallint" => "int16",
            "tinyint" => "int8",
            "timestamp" or "timestamp_ntz" => "timestamp",
            var other => other,
        };
    }
}
