using SparkReco.Core.Errors;
using SparkReco.Publishing;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Publishing;

/// <summary>
/// D1/C4: for every step of a publish (each rename, file write, journal write and delete), a failure or a
/// kill at that step, followed by a new run, leaves either the complete previous output or the complete
/// new output — never a mix, never nothing. Steps are counted through the publisher's fault seam, so a
/// new step added to the publisher is covered without touching this test.
/// </summary>
public sealed class PublishFaultInjectionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Output => _dir.Combine("out");

    /// <summary>Thrown by the seam to stand in for kill -9: nothing in the publisher catches it, so no in-process rollback runs.</summary>
    private sealed class SimulatedKill : Exception
    {
        public SimulatedKill(string step) : base("killed at " + step) { }
    }

    // Previous run: tables a, b, gone (gone is dropped by the new run) and metrics.json. New run: a, b, fresh.
    private static readonly Dictionary<string, Dictionary<string, string>> PreviousRun = new()
    {
        ["a"] = new() { ["part-00000.parquet"] = "a-old" },
        ["b"] = new() { ["part-00000.parquet"] = "b-old", ["part-00001.parquet"] = "b-old-1" },
        ["gone"] = new() { ["part-00000.parquet"] = "gone-old" },
    };

    private static readonly Dictionary<string, Dictionary<string, string>> NewRun = new()
    {
        ["a"] = new() { ["part-00000.parquet"] = "a-new" },
        ["b"] = new() { ["part-00000.parquet"] = "b-new" },
        ["fresh"] = new() { ["part-00000.parquet"] = "fresh-new" },
    };

    private static RunManifest Manifest(string runId, IEnumerable<string> tables) => new()
    {
        RunId = runId,
        StartedAt = DateTime.UnixEpoch,
        FinishedAt = DateTime.UnixEpoch,
        AsOf = DateTime.UnixEpoch,
        ConfigHash = "c",
        InputFingerprint = "f",
        Engine = "test",
        Versions = new Dictionary<string, string>(),
        RowCounts = tables.ToDictionary(t => t, _ => 1L),
        Files = ["metrics.json"],
        Stages = [],
        Facts = new Dictionary<string, object>(),
    };

    private static string Stage(OutputPublisher publisher, string runId, Dictionary<string, Dictionary<string, string>> tables)
    {
        var staging = publisher.CreateStaging(runId);
        foreach (var (table, files) in tables)
        {
            Directory.CreateDirectory(Path.Combine(staging, table));
            foreach (var (file, text) in files) File.WriteAllText(Path.Combine(staging, table, file), text);
        }
        File.WriteAllText(Path.Combine(staging, "metrics.json"), runId + " metrics");
        return staging;
    }

    private static void PublishRun(OutputPublisher publisher, string runId, Dictionary<string, Dictionary<string, string>> tables) =>
        publisher.Publish(Stage(publisher, runId, tables), Manifest(runId, tables.Keys));

    /// <summary>What a reader sees: every visible file with its content (the work files starting with '.' excluded).</summary>
    private Dictionary<string, string> Visible() =>
        Directory.EnumerateFiles(Output, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Output, f))
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('.')))
            .ToDictionary(f => f, f => File.ReadAllText(Path.Combine(Output, f)));

    private static Dictionary<string, string> Expected(string runId, Dictionary<string, Dictionary<string, string>> tables)
    {
        var files = tables.SelectMany(t => t.Value.Select(f => (Path.Combine(t.Key, f.Key), f.Value))).ToDictionary(x => x.Item1, x => x.Value);
        files["metrics.json"] = runId + " metrics";
        files[OutputPublisher.SuccessFileName] = "";
        files[OutputPublisher.ManifestFileName] = Manifest(runId, tables.Keys).ToJson();
        return files;
    }

    private void AssertPreviousOrNew(string context)
    {
        var visible = Visible();
        var previous = Expected("run-1", PreviousRun);
        var next = Expected("run-2", NewRun);
        var isPrevious = visible.Count == previous.Count && previous.All(kv => visible.TryGetValue(kv.Key, out var v) && v == kv.Value);
        var isNew = visible.Count == next.Count && next.All(kv => visible.TryGetValue(kv.Key, out var v) && v == kv.Value);
        Assert.True(isPrevious || isNew, $"{context}: output is neither the complete previous nor the complete new run: {string.Join(", ", visible.Select(kv => kv.Key + "=" + kv.Value).Order())}");
    }

    /// <summary>Publishes run-1 cleanly, then run-2 with <paramref name="fault"/> called before every step; returns the steps seen.</summary>
    private List<string> PublishSecondRun(Action<int, string>? fault)
    {
        PublishRun(new OutputPublisher(Output), "run-1", PreviousRun);
        var steps = new List<string>();
        var publisher = new OutputPublisher(Output, step =>
        {
            steps.Add(step);
            fault?.Invoke(steps.Count - 1, step);
        });
        var staging = Stage(new OutputPublisher(Output), "run-2", NewRun);
        try
        {
            publisher.Publish(staging, Manifest("run-2", NewRun.Keys));
        }
        catch (Exception e) when (e is PublishException or SimulatedKill)
        {
            // Inspected by the caller.
        }
        return steps;
    }

    private int CountSteps()
    {
        var steps = PublishSecondRun(null);
        Directory.Delete(Output, recursive: true);
        // journal (write + rename), backup, 7 entries aside, 4 in, manifest (2), _SUCCESS (2), journal delete, 2 cleanups.
        Assert.True(steps.Count >= 15, "publish has fewer steps than expected: " + string.Join("; ", steps));
        Assert.Contains(steps, s => s.StartsWith("write .publish-journal.json", StringComparison.Ordinal));
        return steps.Count;
    }

    private void ThenANewRunRecoversAndPublishes(string context)
    {
        var notes = new OutputPublisher(Output).Recover();
        AssertPreviousOrNew(context + ", after recovery");
        Assert.False(File.Exists(Path.Combine(Output, OutputPublisher.JournalFileName)), context + ": journal left after recovery");
        Assert.DoesNotContain(Directory.EnumerateDirectories(Output), d => Path.GetFileName(d).StartsWith('.'));
        Assert.NotNull(notes);
        PublishRun(new OutputPublisher(Output), "run-3", NewRun);
        var visible = Visible();
        Assert.Equal(Expected("run-3", NewRun).OrderBy(kv => kv.Key), visible.OrderBy(kv => kv.Key));
    }

    [Fact]
    public void An_injected_failure_at_every_publish_step_leaves_previous_or_new_output()
    {
        var total = CountSteps();
        for (var n = 0; n < total; n++)
        {
            var failed = "";
            PublishSecondRun((i, step) =>
            {
                if (i != n) return;
                failed = step;
                throw new IOException("injected failure at " + step);
            });
            AssertPreviousOrNew($"failure at step {n} ({failed})");
            ThenANewRunRecoversAndPublishes($"failure at step {n} ({failed})");
            Directory.Delete(Output, recursive: true);
        }
    }

    [Fact]
    public void A_kill_at_every_publish_step_is_repaired_by_the_next_run()
    {
        var total = CountSteps();
        for (var n = 0; n < total; n++)
        {
            var killed = "";
            PublishSecondRun((i, step) =>
            {
                if (i != n) return;
                killed = step;
                throw new SimulatedKill(step);
            });
            ThenANewRunRecoversAndPublishes($"kill at step {n} ({killed})");
            Directory.Delete(Output, recursive: true);
        }
    }

    [Fact]
    public void A_kill_during_the_rollback_itself_is_finished_by_the_run_after()
    {
        var total = CountSteps();
        for (var n = 0; n < total; n++)
        {
            // Kill the publish at step n, then kill the recovering run at each of its own steps in turn.
            for (var r = 0; ; r++)
            {
                PublishSecondRun((i, step) =>
                {
                    if (i == n) throw new SimulatedKill(step);
                });
                var recoverySteps = 0;
                var recovering = new OutputPublisher(Output, step =>
                {
                    if (recoverySteps++ == r) throw new SimulatedKill(step);
                });
                var finished = false;
                try
                {
                    recovering.Recover();
                    finished = true; // r is past the recovery's last step
                }
                catch (SimulatedKill)
                {
                    // Interrupted rollback: the next run must finish it.
                }
                ThenANewRunRecoversAndPublishes($"kill at publish step {n}, then at recovery step {r}");
                Directory.Delete(Output, recursive: true);
                if (finished) break;
            }
        }
    }

    [Fact]
    public void A_rollback_that_fails_inside_the_publish_error_handler_is_reported_and_finished_by_the_next_run()
    {
        // C4: the publish fails while moving the old tables aside, and the rollback fails too.
        PublishRun(new OutputPublisher(Output), "run-1", PreviousRun);
        var renames = 0;
        var failing = true;
        var publisher = new OutputPublisher(Output, step =>
        {
            if (!failing || !step.StartsWith("rename", StringComparison.Ordinal)) return;
            // Let the journal and two old entries move aside, then fail every later rename (the rollback's too).
            if (++renames > 3) throw new IOException("Permission denied: " + step);
        });
        var staging = Stage(new OutputPublisher(Output), "run-2", NewRun);
        var e = Assert.Throws<PublishException>(() => publisher.Publish(staging, Manifest("run-2", NewRun.Keys)));
        Assert.Contains("restoring the previous outputs also failed", e.Message);
        Assert.Contains("the next run restores the previous outputs first", e.Message);
        Assert.Equal(ExitCodes.Publish, e.ExitCode);

        failing = false;
        ThenANewRunRecoversAndPublishes("after a failed rollback");
    }

    [Fact]
    public void A_corrupt_journal_is_a_publish_error_that_names_the_file()
    {
        Directory.CreateDirectory(Output);
        File.WriteAllText(Path.Combine(Output, OutputPublisher.JournalFileName), "{not json");
        var e = Assert.Throws<PublishException>(() => new OutputPublisher(Output).Recover());
        Assert.Contains(OutputPublisher.JournalFileName, e.Message);
    }
}
