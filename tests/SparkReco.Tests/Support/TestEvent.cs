using Parquet;
using Parquet.Serialization;
using Parquet.Schema;

namespace SparkReco.Tests.Support;

/// <summary>An input event as tests write it.</summary>
public sealed record TestEvent(string? User, string? Item, string? Type, DateTime? Time, double? Weight = null);

/// <summary>Writes small contract-shaped Parquet inputs for tests (Parquet.Net, so no engine is involved).</summary>
public static class TestParquet
{
    public static readonly DateTime T0 = new(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);

    public static async Task WriteEventsAsync(string path, IReadOnlyList<TestEvent> events, bool withWeight = false)
    {
        var columns = new List<(DataField Field, Array Values)>
        {
            (new DataField<string?>("user_id"), events.Select(e => e.User).ToArray()),
            (new DataField<string?>("item_id"), events.Select(e => e.Item).ToArray()),
            (new DataField<string?>("event_type"), events.Select(e => e.Type).ToArray()),
            (new DataField<DateTime?>("event_time"), events.Select(e => e.Time).ToArray()),
        };
        if (withWeight) columns.Add((new DataField<double?>("weight"), events.Select(e => e.Weight).ToArray()));
        await WriteAsync(path, columns);
    }

    public static Task WriteItemsAsync(string path, IReadOnlyList<(string Item, string Category, string? Creator)> items) =>
        WriteAsync(path, [
            (new DataField<string>("item_id"), items.Select(i => i.Item).ToArray()),
            (new DataField<string>("category"), items.Select(i => i.Category).ToArray()),
            (new DataField<string?>("creator_id"), items.Select(i => i.Creator).ToArray()),
        ]);

    public static Task WriteFollowsAsync(string path, IReadOnlyList<(string Follower, string Followee)> follows) =>
        WriteAsync(path, [
            (new DataField<string>("follower_id"), follows.Select(f => f.Follower).ToArray()),
            (new DataField<string>("followee_id"), follows.Select(f => f.Followee).ToArray()),
        ]);

    /// <summary>Writes any columns as one row group.</summary>
    public static async Task WriteAsync(string path, IReadOnlyList<(DataField Field, Array Values)> columns)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        var schema = new ParquetSchema(columns.Select(c => (Field)c.Field).ToArray());
        var rowCount = columns.Count == 0 ? 0 : columns[0].Values.Length;
        var rows = new List<IDictionary<string, object?>>(rowCount);
        for (var r = 0; r < rowCount; r++)
            rows.Add(columns.ToDictionary(c => c.Field.Name, c => c.Values.GetValue(r)));
        await using var stream = File.Create(path);
        await ParquetSerializer.SerializeUntypedAsync(rows, schema, stream);
    }

    /// <summary>Reads every row of every Parquet file under a folder (or one file), as dictionaries, for assertions.</summary>
    public static async Task<List<IDictionary<string, object?>>> ReadAllAsync(string path)
    {
        var rows = new List<IDictionary<string, object?>>();
        var files = Directory.Exists(path)
            ? Directory.EnumerateFiles(path, "*.parquet", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList()
            : [path];
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(file);
            var result = await ParquetSerializer.DeserializeUntypedAsync(stream);
            foreach (var row in result.Data) rows.Add(row!);
        }
        return rows;
    }
}
