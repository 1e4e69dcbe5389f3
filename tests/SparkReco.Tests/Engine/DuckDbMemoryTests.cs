using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Engine.DuckDb;

namespace SparkReco.Tests.Engine;

/// <summary>Issue 10, U4: a small Engine:MemoryLimit runs DuckDB on fewer threads, so its aggregates spill instead of failing.</summary>
public sealed class DuckDbMemoryTests
{
    [Theory]
    [InlineData(2, "200MB", 1)]      // 200,000,000 bytes: one thread of 128 MiB
    [InlineData(2, "400MB", 2)]
    [InlineData(8, "512MiB", 4)]
    [InlineData(2, "8GB", 2)]        // never more than asked for
    [InlineData(4, "100MB", 1)]      // never fewer than one
    [InlineData(2, "0.5 GiB", 2)]
    [InlineData(3, "1TB", 3)]
    public void Threads_follow_the_memory_limit(int wanted, string limit, int expected) =>
        Assert.Equal(expected, DuckDbEngine.ThreadsFor(wanted, limit));

    [Theory]
    [InlineData("512MB", 512_000_000L)]
    [InlineData("512MiB", 536_870_912L)]
    [InlineData("1.5 GB", 1_500_000_000L)]
    [InlineData("7b", 7L)]
    [InlineData("8 gb", 8_000_000_000L)]
    [InlineData("lots", null)]
    [InlineData("12", null)]
    [InlineData("5PB", null)]
    public void Sizes_are_read_as_duckdb_reads_them(string size, long? bytes) => Assert.Equal(bytes, EngineSettings.Bytes(size));

    [Theory]
    [InlineData(2, "200MB", 1)]
    [InlineData(2, "2GB", 2)]
    public async Task The_engine_runs_with_the_threads_its_memory_limit_affords(int threads, string limit, int expected)
    {
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", threads, limit, null), NullLogger.Instance, CancellationToken.None);
        var rows = await engine.QueryAsync("SELECT current_setting('threads') AS t", CancellationToken.None);
        Assert.Equal(expected, Convert.ToInt32(rows[0]["t"], CultureInfo.InvariantCulture));
    }
}
