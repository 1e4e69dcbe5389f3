using SparkReco.Publishing;

namespace SparkReco.Spark.Tests;

/// <summary>The publish protocol without renames: run folder, manifest, _SUCCESS, then the _LATEST pointer.</summary>
public sealed class RunFolderPublisherTests : IDisposable
{
    private readonly string _output = Path.Combine(Path.GetTempPath(), "sparkreco-runs-" + Guid.NewGuid().ToString("N")[..10]);

    public void Dispose()
    {
        if (Directory.Exists(_output)) Directory.Delete(_output, recursive: true);
    }

    private static RunManifest Manifest(string runId, params string[] tables) => new()
    {
        RunId = runId,
        StartedAt = DateTime.UtcNow,
        FinishedAt = DateTime.UtcNow,
        AsOf = DateTime.UtcNow,
        ConfigHash = "h",
        InputFingerprint = "f",
        Engine = "spark",
        Versions = new Dictionary<string, string>(),
        RowCounts = tables.ToDictionary(t => t, _ => 1L),
        Stages = [],
        Facts = new Dictionary<string, object>(),
    };

    [Fact]
    public void A_published_run_has_its_manifest_and_success_and_the_pointer_names_it_while_earlier_runs_stay()
    {
        var publisher = new RunFolderPublisher(_output);
        var first = publisher.CreateStaging("run-1");
        Directory.CreateDirectory(Path.Combine(first, "segments"));
        publisher.Publish(first, Manifest("run-1", "segments"));
        var second = publisher.CreateStaging("run-2");
        Directory.CreateDirectory(Path.Combine(second, "segments"));
        publisher.Publish(second, Manifest("run-2", "segments"));

        Assert.Equal("run-2", publisher.ReadLatest());
        Assert.Equal(Path.Combine(_output, "runs", "run-2"), second);
        Assert.True(File.Exists(Path.Combine(second, "_SUCCESS")));
        Assert.Equal("run-2", RunManifest.Read(Path.Combine(second, "manifest.json"))!.RunId);
        Assert.True(File.Exists(Path.Combine(first, "_SUCCESS")), "a reader that resolved run-1 keeps complete data");
        Assert.Empty(Directory.GetFiles(_output, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_run_whose_table_the_server_did_not_write_is_not_published()
    {
        var publisher = new RunFolderPublisher(_output);
        var staging = publisher.CreateStaging("run-1");
        var error = Assert.Throws<SparkReco.Core.Errors.PublishException>(() => publisher.Publish(staging, Manifest("run-1", "recommendations")));
        Assert.Contains("same place", error.Message, StringComparison.Ordinal);
        Assert.Null(publisher.ReadLatest());
        Assert.False(File.Exists(Path.Combine(staging, "_SUCCESS")));
    }

    [Fact]
    public void The_next_run_removes_incomplete_run_folders_and_keeps_complete_ones()
    {
        var publisher = new RunFolderPublisher(_output);
        var good = publisher.CreateStaging("good");
        publisher.Publish(good, Manifest("good"));
        var dead = publisher.CreateStaging("dead");
        Directory.CreateDirectory(Path.Combine(dead, "segments"));

        var notes = new RunFolderPublisher(_output).Recover();

        Assert.Single(notes);
        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(good));
        Assert.Equal("good", publisher.ReadLatest());
    }
}
