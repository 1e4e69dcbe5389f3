using SparkReco.Core.Errors;

namespace SparkReco.EndToEnd.Tests;

/// <summary>
/// Issue 10 against the real executable: signals, kill -9 during a publish, output folders that cannot be
/// written. Each test first publishes a previous run and checks it survives byte for byte (or is replaced
/// by the complete new run).
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReliabilityTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);
    private readonly TempDirectory _work = new();

    public void Dispose() => _work.Dispose();

    private string Output => _work.Combine("output");
    private string EngineTemp => _work.Combine("engine-temp");

    // Small and quick: no models, so a run is a few seconds and still publishes several tables.
    private string[] RunArgs(string events, params string[] settings) =>
        ["run", "--events", events, "--output", "output", "--set", "Segments:Enabled=false", "--set", "Scores:Enabled=false",
         "--set", "Engine:TempDirectory=" + EngineTemp, .. settings.SelectMany(s => new[] { "--set", s })];

    private async Task GenerateAsync(string folder, int seed, int events = 20_000)
    {
        var generate = await CliProcess.RunAsync(_work.Path, "generate", "--output", folder, "--events", events.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--users", "300", "--items", "200", "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(generate.ExitCode == 0, generate.Error);
    }

    /// <summary>Every published Parquet file with its bytes (manifest and report carry the run id, so they are checked apart).</summary>
    private Dictionary<string, byte[]> Tables() =>
        Directory.EnumerateFiles(Output, "*.parquet", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Output, f))
            .Where(f => !f.StartsWith('.'))
            .ToDictionary(f => f, f => File.ReadAllBytes(Path.Combine(Output, f)));

    private static bool Same(Dictionary<string, byte[]> a, Dictionary<string, byte[]> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var other) && kv.Value.AsSpan().SequenceEqual(other));

    /// <summary>The output is one complete run: previous or new tables exactly, with manifest and _SUCCESS.</summary>
    private void AssertPreviousOrNew(Dictionary<string, byte[]> previous, Dictionary<string, byte[]> next, string context)
    {
        var tables = Tables();
        Assert.True(Same(tables, previous) || Same(tables, next),
            $"{context}: output is neither the complete previous nor the complete new run: {string.Join(", ", tables.Keys.Order())}");
        Assert.True(File.Exists(Path.Combine(Output, "_SUCCESS")), context + ": _SUCCESS missing");
        Assert.True(File.Exists(Path.Combine(Output, "manifest.json")), context + ": manifest.json missing");
    }

    private void AssertNoEngineTempLeft(string context) =>
        Assert.True(!Directory.Exists(EngineTemp) || !Directory.EnumerateFileSystemEntries(EngineTemp).Any(),
            $"{context}: engine temp folder left: {(Directory.Exists(EngineTemp) ? string.Join(", ", Directory.EnumerateFileSystemEntries(EngineTemp)) : "")}");

    /// <summary>Publishes the data in <paramref name="events"/> without interference; returns its tables.</summary>
    private async Task<Dictionary<string, byte[]>> PublishAsync(string events, params string[] settings)
    {
        var run = await CliProcess.RunAsync(_work.Path, RunArgs(events, settings));
        Assert.True(run.ExitCode == 0, run.Error);
        return Tables();
    }

    /// <summary>Only affinity and the report: every kill point costs one short run.</summary>
    private static readonly string[] Lean = ["Recommend:Enabled=false"];

    [Theory]
    [InlineData("INT", ExitCodes.Cancelled)]
    [InlineData("TERM", ExitCodes.Terminated)]
    public async Task A_signal_stops_the_run_with_its_exit_code_one_line_and_the_previous_output_intact(string signal, int exitCode)
    {
        await GenerateAsync("data", seed: 1);
        await GenerateAsync("bigger", seed: 2, events: 200_000);
        var before = await PublishAsync("data/events");
        var manifest = await File.ReadAllBytesAsync(Path.Combine(Output, "manifest.json"));

        using var cli = RunningCli.Start(_work.Path, null, null, RunArgs("bigger/events"));
        // Signal once the engine is working (its temp folder exists and stages run).
        Assert.True(await cli.WaitForErrorLineAsync("Stage affinity", Timeout), string.Join('\n', cli.ErrorLines));
        await cli.SignalAsync(signal);
        var result = await cli.WaitAsync(Timeout);

        Assert.True(result.ExitCode == exitCode, $"exit {result.ExitCode}\n{result.Error}");
        var errorLines = result.Error.Split('\n').Where(l => !l.Contains(" info: ", StringComparison.Ordinal) && !l.Contains(" warn: ", StringComparison.Ordinal) && l.Length > 0).ToList();
        var line = Assert.Single(errorLines);
        Assert.Equal($"cancelled (SIG{signal}): nothing was published; the previous outputs are unchanged.", line);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled", result.Error, StringComparison.Ordinal);
        Assert.True(Same(before, Tables()), "previous tables changed");
        Assert.Equal(manifest, await File.ReadAllBytesAsync(Path.Combine(Output, "manifest.json")));
        Assert.DoesNotContain(Directory.EnumerateDirectories(Output), d => Path.GetFileName(d).StartsWith(".staging", StringComparison.Ordinal));
        AssertNoEngineTempLeft("after " + signal);
    }

    /// <summary>
    /// kill -9 at each rename the publish does (strace injects SIGKILL on the Nth rename(2), so the rename never
    /// happens), then the next run repairs and publishes. Needs strace; without it the random-time test still runs.
    /// </summary>
    [Fact]
    public async Task A_kill_9_at_every_rename_of_the_publish_leaves_previous_or_new_output()
    {
        if (!File.Exists("/usr/bin/strace")) return;
        await GenerateAsync("old", seed: 1);
        await GenerateAsync("new", seed: 2);
        var next = await PublishAsync("new/events", Lean);
        Directory.Delete(Output, recursive: true);
        var previous = await PublishAsync("old/events", Lean);
        Assert.False(Same(previous, next), "the two inputs must give different tables");

        var killed = 0;
        for (var n = 1; ; n++)
        {
            string[] strace = ["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=rename", "-e", $"inject=rename:signal=SIGKILL:when={n}"];
            using var cli = RunningCli.Start(_work.Path, strace, null, RunArgs("new/events", Lean));
            var result = await cli.WaitAsync(Timeout);
            if (result.ExitCode == 0) break; // n is past the last rename: the run published normally
            Assert.True(result.ExitCode == 128 + 9, $"rename {n}: exit {result.ExitCode}\n{result.Error}");
            killed++;
            // A reader now sees _SUCCESS only with one complete run.
            if (File.Exists(Path.Combine(Output, "_SUCCESS"))) AssertPreviousOrNew(previous, next, $"killed at rename {n}");

            // The next run repairs (or finds nothing to repair), then we go back to the previous output.
            var repair = await CliProcess.RunAsync(_work.Path, RunArgs("old/events", Lean));
            Assert.True(repair.ExitCode == 0, $"run after kill at rename {n}: {repair.Error}");
            AssertPreviousOrNew(previous, next, $"run after kill at rename {n}");
            Assert.True(Same(previous, Tables()));
        }
        // journal, _SUCCESS/affinity/report/manifest aside, affinity/report in, manifest, _SUCCESS.
        Assert.True(killed >= 9, $"only {killed} renames were killed");
        Assert.True(Same(next, Tables()));
    }

    /// <summary>kill -9 at seeded random times through whole runs; every state in between is one complete run.</summary>
    [Fact]
    public async Task A_kill_9_at_random_points_leaves_previous_or_new_output()
    {
        await GenerateAsync("old", seed: 1);
        await GenerateAsync("new", seed: 2);
        var next = await PublishAsync("new/events");
        Directory.Delete(Output, recursive: true);
        var previous = await PublishAsync("old/events");

        var random = new Random(10);
        for (var i = 0; i < 4; i++)
        {
            var source = i % 2 == 0 ? "new/events" : "old/events";
            using var cli = RunningCli.Start(_work.Path, null, null, RunArgs(source));
            // Once the job has started (its first log line), kill somewhere in the rest of the run.
            await cli.WaitForErrorLineAsync("Run ", Timeout);
            await Task.Delay(random.Next(0, 4000));
            await cli.SignalAsync("KILL");
            await cli.WaitAsync(Timeout);
            if (File.Exists(Path.Combine(Output, "_SUCCESS"))) AssertPreviousOrNew(previous, next, $"kill {i}");
        }
        var last = await CliProcess.RunAsync(_work.Path, RunArgs("new/events"));
        Assert.True(last.ExitCode == 0, last.Error);
        Assert.True(Same(next, Tables()));
        Assert.DoesNotContain(Directory.EnumerateDirectories(Output), d => Path.GetFileName(d).StartsWith('.'));
        // Engine temp folders of the killed runs are removed by the later runs (P3).
        AssertNoEngineTempLeft("after kills and a clean run");
    }

    [Fact]
    public async Task An_output_folder_that_cannot_be_written_is_exit_5_naming_the_folder()
    {
        await GenerateAsync("data", seed: 1);
        Directory.CreateDirectory(Output);
        using (ReadOnly.Folder(Output))
        {
            var run = await CliProcess.RunAsync(_work.Path, RunArgs("data/events"));
            Assert.True(run.ExitCode == ExitCodes.Publish, $"exit {run.ExitCode}\n{run.Error}");
            Assert.Contains($"Cannot write to output folder '{Output}'", run.Error);
            Assert.Contains("Output:Path", run.Error);
            Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_full_disk_while_writing_the_lock_holder_note_is_exit_5()
    {
        if (!File.Exists("/dev/full")) return;
        await GenerateAsync("data", seed: 1);
        Directory.CreateDirectory(Output);
        // /dev/full fails every write with ENOSPC: the holder note is the first file the run writes to the output.
        File.CreateSymbolicLink(Path.Combine(Output, ".sparkreco.lock.holder"), "/dev/full");
        var run = await CliProcess.RunAsync(_work.Path, RunArgs("data/events"));
        Assert.True(run.ExitCode == ExitCodes.Publish, $"exit {run.ExitCode}\n{run.Error}");
        Assert.Contains($"The disk of output folder '{Output}' is full", run.Error);
        Assert.DoesNotContain("   at ", run.Error, StringComparison.Ordinal);
    }

    /// <summary>U2: a real full disk under the output (a tiny tmpfs; needs root, skipped otherwise).</summary>
    [Fact]
    public async Task A_full_output_disk_is_exit_5_naming_the_output_not_the_temp_folder()
    {
        await GenerateAsync("data", seed: 1);
        Directory.CreateDirectory(Output);
        using var tiny = TinyDisk.TryMount(Output, "16k");
        if (tiny is null) return;
        var run = await CliProcess.RunAsync(_work.Path, RunArgs("data/events"));
        Assert.True(run.ExitCode == ExitCodes.Publish, $"exit {run.ExitCode}\n{run.Error}");
        Assert.Contains($"to the output folder '{Output}' failed: the disk is full", run.Error);
        Assert.DoesNotContain("Engine:TempDirectory", run.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Output, "_SUCCESS")));
    }
}
