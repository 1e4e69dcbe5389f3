using System.Text.Json;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// Moves a complete run from its staging folder into <c>&lt;output&gt;/&lt;table&gt;/</c>. Readers see either the
/// previous run or the new one: <c>_SUCCESS</c> is removed first and written last, a journal records the
/// swap so that a run killed half-way through is rolled back by the next one, and the previous tables
/// are kept aside until the new ones are in place. Call only while holding the <see cref="OutputLock"/>.
/// </summary>
/// <remarks>
/// Every step is one rename or one small file written to a temp name and renamed, so a kill at any point
/// leaves each entry either where it was, or in the backup folder, or (new) in place — never half-moved.
/// Rollback decides per entry from what is on disk, never from the journal alone: an entry the journal
/// lists as "moved aside" that is not in the backup folder was never moved, so it is the previous
/// output and stays. Rollback is idempotent, so a rollback that is itself interrupted is finished by the
/// next run.
/// </remarks>
public sealed class OutputPublisher : IOutputPublisher
{
    public const string ManifestFileName = "manifest.json";
    public const string SuccessFileName = "_SUCCESS";
    public const string JournalFileName = ".publish-journal.json";
    public const string StagingPrefix = ".staging-";
    public const string BackupPrefix = ".previous-";
    private const string TempSuffix = ".tmp";

    private readonly string _output;
    private readonly Action<string> _beforeStep;

    /// <param name="outputDirectory">The published output folder.</param>
    /// <param name="beforeStep">
    /// Called with a description before every rename, delete and file write: the seam through which tests
    /// inject a failure or a simulated kill at each step of the publish and of the rollback.
    /// </param>
    public OutputPublisher(string outputDirectory, Action<string>? beforeStep = null)
    {
        _output = Path.GetFullPath(outputDirectory);
        _beforeStep = beforeStep ?? (_ => { });
    }

    public string OutputDirectory => _output;

    /// <summary>
    /// Repairs what a killed run left: rolls back an interrupted publish and removes stale staging
    /// folders. Returns a line per repair, for the log.
    /// </summary>
    public IReadOnlyList<string> Recover()
    {
        try
        {
            return RecoverCore();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new PublishException(
                $"Cannot repair the interrupted publish in '{_output}': {e.Message}. The previous tables are kept in " +
                $"'{BackupPrefix}<run>' and '{JournalFileName}' says which; fix the cause (permissions, free space) and run again, " +
                "the next run finishes the repair.", e);
        }
    }

    private List<string> RecoverCore()
    {
        var notes = new List<string>();
        var journalPath = Path.Combine(_output, JournalFileName);
        if (File.Exists(journalPath))
        {
            var journal = JsonSerializer.Deserialize<Journal>(File.ReadAllText(journalPath))
                ?? throw new JsonException($"'{JournalFileName}' is empty");
            RollBack(journal);
            notes.Add($"rolled back the interrupted publish of run {journal.RunId}; the previous outputs are in place");
        }
        foreach (var stale in Directory.EnumerateDirectories(_output, StagingPrefix + "*").Concat(Directory.EnumerateDirectories(_output, BackupPrefix + "*")))
        {
            Step("delete", stale);
            Delete(stale);
            notes.Add($"removed '{Path.GetFileName(stale)}' left by a run that did not finish");
        }
        // Temp files of an interrupted atomic write (journal, manifest, _SUCCESS): never the real thing.
        foreach (var temp in new[] { JournalFileName, ManifestFileName, SuccessFileName }.Select(f => Path.Combine(_output, f + TempSuffix)).Where(File.Exists))
        {
            Step("delete", temp);
            File.Delete(temp);
        }
        return notes;
    }

    private void RollBack(Journal journal)
    {
        var backup = Path.Combine(_output, BackupPrefix + journal.RunId);
        var moved = journal.Moved.ToHashSet(StringComparer.Ordinal);
        // New entries that had no previous version: whatever is there now came from the interrupted run.
        foreach (var entry in journal.Added.Where(e => !moved.Contains(e)))
        {
            var target = Path.Combine(_output, entry);
            if (!Exists(target)) continue;
            Step("delete", target);
            Delete(target);
        }
        // Entries with a previous version: only those found in the backup were moved aside, and only for
        // those can the entry in place be the new one. _SUCCESS comes back last, after every table.
        foreach (var entry in journal.Moved.OrderBy(e => e == SuccessFileName ? 2 : e == ManifestFileName ? 1 : 0))
        {
            var saved = Path.Combine(backup, entry);
            if (!Exists(saved)) continue;
            var target = Path.Combine(_output, entry);
            if (Exists(target))
            {
                Step("delete", target);
                Delete(target);
            }
            Step("rename", saved);
            Move(saved, target);
        }
        if (Directory.Exists(backup))
        {
            Step("delete", backup);
            Directory.Delete(backup, recursive: true);
        }
        // The journal goes last: until here, a kill leaves it for the next run to finish the rollback.
        Step("delete", Path.Combine(_output, JournalFileName));
        File.Delete(Path.Combine(_output, JournalFileName));
    }

    /// <summary>Tables and files are moved into the output folder itself.</summary>
    public string PublishedFolder(string runId) => _output;

    public string CreateStaging(string runId)
    {
        var staging = Path.Combine(_output, StagingPrefix + runId);
        try
        {
            Directory.CreateDirectory(staging);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PublishException($"Cannot create the staging folder '{staging}': {e.Message}. Check that Output:Path is writable and has free space.", e);
        }
        return staging;
    }

    /// <summary>Replaces the published tables with the staged ones, then writes the manifest and <c>_SUCCESS</c>.</summary>
    public Task PublishAsync(string staging, RunManifest manifest, CancellationToken cancellationToken)
    {
        Publish(staging, manifest);
        return Task.CompletedTask;
    }

    public void Publish(string staging, RunManifest manifest)
    {
        try
        {
            PublishCore(staging, manifest);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try
            {
                RecoverCore();
            }
            catch (Exception rollback) when (rollback is IOException or UnauthorizedAccessException or JsonException)
            {
                // The journal stays, so the next run finishes the rollback before it does anything else.
                throw new PublishException(
                    $"Publishing to '{_output}' failed: {e.Message}; restoring the previous outputs also failed: {rollback.Message}. " +
                    "Fix the cause (permissions, free space) and run again: the next run restores the previous outputs first.", e);
            }
            throw new PublishException($"Publishing to '{_output}' failed: {e.Message}. The previous outputs were restored; fix the cause (permissions, free space) and run again.", e);
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
        Step("create", backup);
        Directory.CreateDirectory(backup);
        // _SUCCESS leaves first so no reader trusts the folder while tables are swapped.
        foreach (var entry in oldEntries.OrderBy(e => e == SuccessFileName ? 0 : 1))
        {
            Step("rename", Path.Combine(_output, entry));
            Move(Path.Combine(_output, entry), Path.Combine(backup, entry));
        }
        foreach (var table in newTables)
        {
            Step("rename", Path.Combine(staging, table));
            Move(Path.Combine(staging, table), Path.Combine(_output, table));
        }
        WriteAtomically(Path.Combine(_output, ManifestFileName), manifest.ToJson());
        WriteAtomically(Path.Combine(_output, SuccessFileName), "");
        // The swap is complete: the journal goes first, then the copies it pointed at. A failure after
        // this point must not roll back (the new output is complete), so it is only logged by the next run.
        Step("delete", Path.Combine(_output, JournalFileName));
        File.Delete(Path.Combine(_output, JournalFileName));
        TryCleanUp(backup);
        TryCleanUp(staging);
    }

    private void TryCleanUp(string directory)
    {
        try
        {
            Step("delete", directory);
            Delete(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The new output is complete and published; the next run's Recover removes the leftover folder.
        }
    }

    private void WriteAtomically(string path, string content)
    {
        var temp = path + TempSuffix;
        Step("write", temp);
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
            writer.Flush();
            // On disk before the rename, so the renamed file is never empty after a power cut.
            stream.Flush(flushToDisk: true);
        }
        Step("rename", temp);
        File.Move(temp, path, overwrite: true);
    }

    private void Step(string action, string path) => _beforeStep($"{action} {Path.GetRelativePath(_output, path)}");

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
