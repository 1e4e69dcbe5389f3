using System.Text.Json;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// Moves a complete run from its staging folder into <c>&lt;output&gt;/&lt;table&gt;/</c>. Readers see either the
/// previous run or the new one: <c>_SUCCESS</c> is removed first and written last, a journal records the
/// swap so that a run killed half-way through is rolled back by the next one, and the previous tables
/// are kept aside until the new ones are in place. Call only while holding the <see cref="OutputLock"/>.
/// </summary>
public sealed class OutputPublisher
{
    public const string ManifestFileName = "manifest.json";
    public const string SuccessFileName = "_SUCCESS";
    private const string JournalFileName = ".publish-journal.json";
    private const string StagingPrefix = ".staging-";
    private const string BackupPrefix = ".previous-";

    private readonly string _output;

    public OutputPublisher(string outputDirectory) => _output = Path.GetFullPath(outputDirectory);

    public string OutputDirectory => _output;

    /// <summary>
    /// Repairs what a killed run left: rolls back an interrupted publish and removes stale staging
    /// folders. Returns a line per repair, for the log.
    /// </summary>
    public IReadOnlyList<string> Recover()
    {
        var notes = new List<string>();
        var journalPath = Path.Combine(_output, JournalFileName);
        if (File.Exists(journalPath))
        {
            var journal = JsonSerializer.Deserialize<Journal>(File.ReadAllText(journalPath))!;
            var backup = Path.Combine(_output, BackupPrefix + journal.RunId);
            // What the interrupted run put in place goes; what it set aside comes back.
            foreach (var entry in journal.Added) Delete(Path.Combine(_output, entry));
            foreach (var entry in journal.Moved)
            {
                var target = Path.Combine(_output, entry);
                var saved = Path.Combine(backup, entry);
                if (!Exists(saved)) continue;
                Delete(target);
                Move(saved, target);
            }
            Delete(backup);
            File.Delete(journalPath);
            notes.Add($"rolled back the interrupted publish of run {journal.RunId}; the previous outputs are in place");
        }
        foreach (var stale in Directory.EnumerateDirectories(_output, StagingPrefix + "*").Concat(Directory.EnumerateDirectories(_output, BackupPrefix + "*")))
        {
            Delete(stale);
            notes.Add($"removed '{Path.GetFileName(stale)}' left by a run that did not finish");
        }
        return notes;
    }

    public string CreateStaging(string runId)
    {
        var staging = Path.Combine(_output, StagingPrefix + runId);
        Directory.CreateDirectory(staging);
        return staging;
    }

    /// <summary>Replaces the published tables with the staged ones, then writes the manifest and <c>_SUCCESS</c>.</summary>
    public void Publish(string staging, RunManifest manifest)
    {
        try
        {
            PublishCore(staging, manifest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Recover();
            throw new PublishException($"Publishing to '{_output}' failed: {e.Message}. The previous outputs were restored.", e);
        }
    }

    private void PublishCore(string staging, RunManifest manifest)
    {
        var newTables = Directory.EnumerateFileSystemEntries(staging).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToList();
        var previous = RunManifest.Read(Path.Combine(_output, ManifestFileName));
        // Everything the previous run published goes aside, so outputs never mix two runs.
        var oldEntries = (previous?.RowCounts.Keys ?? []).Concat(previous?.Files ?? [])
            .Concat(newTables)
            .Append(ManifestFileName)
            .Append(SuccessFileName)
            .Distinct(StringComparer.Ordinal)
            .Where(e => Exists(Path.Combine(_output, e)))
            .ToList();

        var backup = Path.Combine(_output, BackupPrefix + manifest.RunId);
        var added = newTables.Append(ManifestFileName).Append(SuccessFileName).ToList();
        WriteAtomically(Path.Combine(_output, JournalFileName), JsonSerializer.Serialize(new Journal(manifest.RunId, oldEntries, added)));
        Directory.CreateDirectory(backup);
        // _SUCCESS leaves first so no reader trusts the folder while tables are swapped.
        foreach (var entry in oldEntries.OrderBy(e => e == SuccessFileName ? 0 : 1))
            Move(Path.Combine(_output, entry), Path.Combine(backup, entry));
        foreach (var table in newTables)
            Move(Path.Combine(staging, table), Path.Combine(_output, table));
        WriteAtomically(Path.Combine(_output, ManifestFileName), manifest.ToJson());
        WriteAtomically(Path.Combine(_output, SuccessFileName), "");
        // The swap is complete: the journal goes first, then the copies it pointed at.
        File.Delete(Path.Combine(_output, JournalFileName));
        Delete(backup);
        Delete(staging);
    }

    private static void WriteAtomically(string path, string content)
    {
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        File.Move(temp, path, overwrite: true);
    }

    private static bool Exists(string path) => File.Exists(path) || Directory.Exists(path);

    private static void Move(string from, string to)
    {
        if (Directory.Exists(from)) Directory.Move(from, to);
        else File.Move(from, to);
    }

    private static void Delete(string path)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        else if (File.Exists(path)) File.Delete(path);
    }

    private sealed record Journal(string RunId, IReadOnlyList<string> Moved, IReadOnlyList<string> Added);
}
