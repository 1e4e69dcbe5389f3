using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Parquet.Schema;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Jobs.Running;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Stages;

[Collection(CliCollection.Name)]
public sealed class PrivacyTests : IDisposable
{
    private const string Key = "test-key-0123456789-abcdef";
    private readonly TempDirectory _dir = new();
    private readonly string? _previousKey = Environment.GetEnvironmentVariable(PrivacySettings.KeyVariable);

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(PrivacySettings.KeyVariable, _previousKey);
        _dir.Dispose();
    }

    private Task<CliRunner.Result> RunAsync(string output, params string[] extra) =>
        CliRunner.RunAsync([
            "run", "--events", _dir.Combine("events.parquet"), "--items", _dir.Combine("items.parquet"), "--follows", _dir.Combine("follows.parquet"),
            "--output", output, "--as-of", "2026-11-01T00:00:00Z", "--set", "Privacy:KAnonymity=5", .. extra]);

    [Theory]
    [InlineData("a sixteen char k")]
    [InlineData("ünïcødé key with more than sixty-four bytes, so RFC 2104 hashes it down first ✓✓✓")]
    public async Task The_engine_computes_the_same_hmac_sha256_as_dotnet(string key)
    {
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        await Pseudonymizer.StoreKeyAsync(engine, key, CancellationToken.None);
        string[] ids = ["u1", "", "user-ünïcødé", "12345678901234567890", new string('x', 200)];
        var d = engine.Dialect;
        var values = string.Join(", ", ids.Select((id, n) => $"({n}, {d.Literal(id)})"));
        var rows = await engine.QueryAsync(
            $"SELECT t.n, {Pseudonymizer.Pseudonym(d, "t.id")} AS p FROM (VALUES {values}) AS t(n, id) CROSS JOIN {d.Quote(Pseudonymizer.KeyTable)} AS k ORDER BY t.n",
            CancellationToken.None);
        for (var n = 0; n < ids.Length; n++)
        {
            var expected = Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(key), Encoding.UTF8.GetBytes(ids[n])));
            Assert.Equal(expected, rows[n]["p"]);
        }
    }

    [Fact]
    public async Task Pseudonymisation_without_a_key_is_a_configuration_error_before_any_work()
    {
        var data = PlantedCommunities.Generate([10, 10], seed: 2);
        await data.WriteAsync(_dir.Path);
        Environment.SetEnvironmentVariable(PrivacySettings.KeyVariable, null);

        var result = await RunAsync(_dir.Combine("out"), "--set", "Privacy:PseudonymizeIds=true");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(PrivacySettings.KeyVariable, result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(_dir.Combine("out")), "nothing may be written");
    }

    [Fact]
    public async Task With_a_key_no_raw_user_id_appears_in_any_output_and_pseudonyms_are_stable()
    {
        var data = PlantedCommunities.Generate([12, 12, 12], seed: 4);
        await data.WriteAsync(_dir.Path);
        // An input column outside the contract (an e-mail address) must never reach an output.
        await WriteAsync(_dir.Combine("events.parquet"), [
            (new DataField<string>("user_id"), data.Events.Select(e => e.User!).ToArray()),
            (new DataField<string>("item_id"), data.Events.Select(e => e.Item!).ToArray()),
            (new DataField<string>("event_type"), data.Events.Select(e => e.Type!).ToArray()),
            (new DataField<DateTime>("event_time"), data.Events.Select(e => e.Time!.Value).ToArray()),
            (new DataField<string>("email"), data.Events.Select(e => e.User + "@example.com").ToArray()),
        ]);
        Environment.SetEnvironmentVariable(PrivacySettings.KeyVariable, Key);

        var first = await RunAsync(_dir.Combine("out1"), "--set", "Privacy:PseudonymizeIds=true");
        Assert.True(first.ExitCode == ExitCodes.Success, first.Error);
        var second = await RunAsync(_dir.Combine("out2"), "--set", "Privacy:PseudonymizeIds=true");
        Assert.True(second.ExitCode == ExitCodes.Success, second.Error);

        var raw = data.Community.Keys.ToList();
        var files = Directory.EnumerateFiles(_dir.Combine("out1"), "*", SearchOption.AllDirectories).ToList();
        Assert.Contains(files, f => f.Contains("segments", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("user_scores", StringComparison.Ordinal));
        Assert.Contains(files, f => f.Contains("affinity", StringComparison.Ordinal));
        foreach (var file in files)
        {
            // Text files byte by byte; Parquet (compressed) value by value after decoding.
            var texts = file.EndsWith(".parquet", StringComparison.Ordinal)
                ? (await ReadAllAsync(file)).SelectMany(r => r.Values).Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture) ?? "")
                : [Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file))];
            foreach (var text in texts)
            {
                Assert.DoesNotContain("@example.com", text, StringComparison.Ordinal);
                foreach (var id in raw)
                    Assert.False(text.Contains(id, StringComparison.Ordinal), $"{Path.GetFileName(Path.GetDirectoryName(file))}/{Path.GetFileName(file)} contains raw id {id}");
            }
        }

        // Pseudonyms are HMAC-SHA256(key, id): the same key gives the same pseudonym in every run (and on every engine).
        var expected = raw.Select(Pseudonym).ToHashSet(StringComparer.Ordinal);
        var segments1 = (await ReadAllAsync(_dir.Combine("out1", "segments"))).Select(r => (string)r["user_id"]!).ToList();
        var segments2 = (await ReadAllAsync(_dir.Combine("out2", "segments"))).Select(r => (string)r["user_id"]!).ToList();
        Assert.Equal(36, segments1.Count);
        Assert.All(segments1, p => Assert.Contains(p, expected));
        Assert.Equal(segments1, segments2);
        var affinity = (await ReadAllAsync(_dir.Combine("out1", "affinity"))).Select(r => (string)r["user_id"]!).Distinct().ToList();
        Assert.All(affinity, p => Assert.Contains(p, expected));
    }

    /// <summary>The oracle: .NET's own HMAC-SHA256 of the id's UTF-8 bytes under the key's UTF-8 bytes, in lower-case hex.</summary>
#pragma warning disable CA5351
    private static string Pseudonym(string id) =>
        Convert.ToHexStringLower(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), Encoding.UTF8.GetBytes(id)));
#pragma warning restore CA5351

    /// <summary>A stage of another engineer (e.g. user_neighbors / recommendations) only declares its columns; the runner covers ids in columns and inside text.</summary>
    private sealed class NeighbourStage : SqlStage
    {
        public override string Name => "neighbours";
        public override string Description => "test";
        public override IReadOnlyList<string> Inputs => [];
        public override IReadOnlyList<string> UserIdColumns => ["user_id", "neighbor_id"];
        public override IReadOnlyList<UserIdMention> UserIdMentions => [new("reason", "neighbor_id")];
        public override string Render(StageContext c) =>
            "SELECT 'alice' AS user_id, 'bob' AS neighbor_id, 'liked by your neighbour bob' AS reason, 0.5 AS score " +
            "UNION ALL SELECT 'carol', NULL, 'popular', 0.1";
    }

    [Fact]
    public async Task The_publish_projection_pseudonymises_declared_columns_and_mentions_in_text()
    {
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        var stage = new NeighbourStage();
        await engine.CreateTableAsync(stage.Name, stage.Render(null!), CancellationToken.None);
        await Pseudonymizer.StoreKeyAsync(engine, Key, CancellationToken.None);

        var table = await Pseudonymizer.PrepareAsync(engine, stage, CancellationToken.None);
        var rows = await engine.QueryAsync($"SELECT * FROM \"{table}\" ORDER BY score DESC", CancellationToken.None);

        static string P(string id) => Pseudonym(id);
        Assert.Equal(["user_id", "neighbor_id", "reason", "score"], rows[0].Keys);
        Assert.Equal(P("alice"), rows[0]["user_id"]);
        Assert.Equal(P("bob"), rows[0]["neighbor_id"]);
        Assert.Equal("liked by your neighbour " + P("bob"), rows[0]["reason"]);
        Assert.Equal(P("carol"), rows[1]["user_id"]);
        Assert.Null(rows[1]["neighbor_id"]);
        Assert.Equal("popular", rows[1]["reason"]);
    }

    [Fact]
    public async Task An_undeclared_user_id_column_stops_publishing()
    {
        await using var engine = await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None);
        await engine.CreateTableAsync("untagged", "SELECT 'alice' AS user_id, 1 AS n", CancellationToken.None);
        var stage = new UntaggedStage();
        await Assert.ThrowsAsync<InvalidOperationException>(() => Pseudonymizer.PrepareAsync(engine, stage, CancellationToken.None));
    }

    private sealed class UntaggedStage : SqlStage
    {
        public override string Name => "untagged";
        public override string Description => "test";
        public override IReadOnlyList<string> Inputs => [];
        public override string Render(StageContext c) => "";
    }
}
