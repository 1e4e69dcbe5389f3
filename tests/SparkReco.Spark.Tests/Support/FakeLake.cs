using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using Spark.Connect;

namespace SparkReco.Spark.Tests.Support;

/// <summary>A Spark error as a server sends it: gRPC INTERNAL whose details carry an ErrorInfo with the error class and SQL state.</summary>
internal static class SparkErrorReply
{
    public static RpcException Of(string? errorClass, string sqlState, string message)
    {
        var info = new ErrorInfo { Reason = "org.apache.spark.sql.AnalysisException", Domain = "org.apache.spark" };
        if (errorClass is not null) info.Metadata.Add("errorClass", errorClass);
        info.Metadata.Add("sqlState", sqlState);
        var status = new Google.Rpc.Status { Code = (int)Code.Internal, Message = message };
        status.Details.Add(Any.Pack(info));
        return status.ToRpcException();
    }
}

/// <summary>One Parquet file of the fake lake: its full path, bytes, modification time and rows.</summary>
internal sealed record FakeLakeFile(string Path, long Bytes, DateTime Modified, long Rows);

/// <summary>
/// Parquet data sets on a data lake only the fake server "sees": AnalyzePlan of a Read relation answers their schema (or
/// PATH_NOT_FOUND, or a scripted error), and the query over their <c>_metadata</c> answers their files.
/// </summary>
internal sealed class FakeLake
{
    public Dictionary<string, (DataType Schema, IReadOnlyList<FakeLakeFile> Files)> DataSets { get; } = new(StringComparer.Ordinal);

    /// <summary>Errors the server raises when asked about a path (e.g. schemas that do not merge).</summary>
    public Dictionary<string, RpcException> Errors { get; } = new(StringComparer.Ordinal);

    public List<string> FileQueries { get; } = [];

    public static DataType Text => new() { String = new DataType.Types.String() };
    public static DataType Long => new() { Long = new DataType.Types.Long() };
    public static DataType Int => new() { Integer = new DataType.Types.Integer() };
    public static DataType Double => new() { Double = new DataType.Types.Double() };
    public static DataType Timestamp => new() { Timestamp = new DataType.Types.Timestamp() };

    public static DataType Schema(params (string Name, DataType Type)[] fields)
    {
        var schema = new DataType.Types.Struct();
        foreach (var (name, type) in fields) schema.Fields.Add(new DataType.Types.StructField { Name = name, DataType = type, Nullable = true });
        return new DataType { Struct = schema };
    }

    /// <summary>The events contract with the given columns replaced (null removes one).</summary>
    public static DataType Events(params (string Name, DataType? Type)[] changes)
    {
        var fields = new List<(string Name, DataType Type)> { ("user_id", Long), ("item_id", Text), ("event_type", Text), ("event_time", Timestamp), ("weight", Double) };
        foreach (var (name, type) in changes)
        {
            fields.RemoveAll(f => f.Name == name);
            if (type is not null) fields.Add((name, type));
        }
        return Schema([.. fields]);
    }

    public void Attach(FakeSparkService service)
    {
        service.AnalyzeRead = source =>
        {
            var path = Assert.Single(source.Paths);
            if (Errors.TryGetValue(path, out var error)) throw error;
            return DataSets.TryGetValue(path, out var set)
                ? set.Schema
                : throw SparkErrorReply.Of("PATH_NOT_FOUND", "42K03", $"[PATH_NOT_FOUND] Path does not exist: {path}. SQLSTATE: 42K03");
        };
        var other = service.Query;
        service.Query = sql =>
        {
            const string From = "FROM parquet.`";
            if (!sql.Contains("_metadata.file_path", StringComparison.Ordinal)) return other(sql);
            var start = sql.IndexOf(From, StringComparison.Ordinal) + From.Length;
            var path = sql[start..sql.IndexOf('`', start)];
            FileQueries.Add(path);
            var files = DataSets[path].Files;
            return files.Count == 0 ? [] :
            [
                ArrowIpc.Stream(
                    ("file_path", ArrowIpc.Strings([.. files.Select(f => f.Path)])),
                    ("file_size", ArrowIpc.Longs([.. files.Select(f => (long?)f.Bytes)])),
                    ("modified", ArrowIpc.Timestamps([.. files.Select(f => (DateTime?)f.Modified)])),
                    ("row_count", ArrowIpc.Longs([.. files.Select(f => (long?)f.Rows)]))),
            ];
        };
    }
}
