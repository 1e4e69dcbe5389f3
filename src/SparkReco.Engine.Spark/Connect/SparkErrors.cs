using System.Text;
using System.Text.Json;
using Google.Rpc;
using Grpc.Core;
using Spark.Connect;
using SparkReco.Core.Errors;

namespace SparkReco.Engine.Spark.Connect;

/// <summary>
/// Turns a failed gRPC call into the one engine exception (<see cref="EngineException"/>): Spark's error class and SQL
/// state come from the <c>google.rpc.ErrorInfo</c> the server packs into the status details (metadata keys
/// <c>errorClass</c>, <c>sqlState</c>, <c>messageParameters</c>, <c>errorId</c>), the cause chain from FetchErrorDetails
/// when the server kept it, and the transient flag from the status code.
/// </summary>
internal static class SparkErrors
{
    /// <summary>Transport failures worth another try; everything else (a query error) would fail the same way again.</summary>
    public static bool IsTransient(RpcException e) =>
        e.StatusCode == StatusCode.Unavailable || HasRetryInfo(e);

    private static bool HasRetryInfo(RpcException e)
    {
        try
        {
            return e.GetRpcStatus()?.Details.Any(d => d.Is(RetryInfo.Descriptor)) == true;
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return false;
        }
    }

    /// <summary>What the status details say, or nothing when the error carries no ErrorInfo (e.g. a transport failure).</summary>
    public static ErrorInfo? Info(RpcException e)
    {
        try
        {
            var status = e.GetRpcStatus();
            var any = status?.Details.FirstOrDefault(d => d.Is(ErrorInfo.Descriptor));
            return any?.Unpack<ErrorInfo>();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <summary>The readable exception: "Spark [CLASS] (SQLSTATE s): message", with the server's cause chain when known.</summary>
    public static EngineException ToEngineException(RpcException e, string what, FetchErrorDetailsResponse? details, string? unavailableHint = null)
    {
        var info = Info(e);
        string? errorClass = null, sqlState = null;
        if (info is not null)
        {
            if (info.Metadata.TryGetValue("errorClass", out var c) && c.Length > 0) errorClass = c;
            if (info.Metadata.TryGetValue("sqlState", out var s) && s.Length > 0) sqlState = s;
        }
        var root = details is { RootErrorIdx: var idx } && details.HasRootErrorIdx && idx < details.Errors.Count ? details.Errors[idx] : null;
        if (root?.SparkThrowable is { } throwable)
        {
            errorClass ??= throwable.HasErrorClass ? throwable.ErrorClass : throwable.HasCondition ? throwable.Condition : null;
            sqlState ??= throwable.HasSqlState ? throwable.SqlState : null;
        }

        // "Spark [CLASS] (SQLSTATE s)" for an error the server raised; "Spark Connect" for one of the connection itself.
        var text = new StringBuilder(errorClass is null && sqlState is null && info is null ? "Spark Connect error" : "Spark");
        if (errorClass is not null) text.Append(" [").Append(errorClass).Append(']');
        if (sqlState is not null) text.Append(" (SQLSTATE ").Append(sqlState).Append(')');
        text.Append(" while ").Append(what).Append(": ");
        var message = string.IsNullOrWhiteSpace(e.Status.Detail) ? e.StatusCode.ToString() : e.Status.Detail.Trim();
        text.Append(message);
        if (errorClass is null && info?.Metadata.TryGetValue("messageParameters", out var parameters) == true && parameters.Length > 2)
            text.Append(" (").Append(parameters).Append(')');
        // The causes say why (a missing file behind "Job aborted", the overflowing value behind an ANSI error).
        if (root is not null)
        {
            var seen = 0;
            var cause = root.HasCauseIdx ? root.CauseIdx : -1;
            while (cause >= 0 && cause < details!.Errors.Count && seen++ < 5)
            {
                var error = details.Errors[cause];
                var type = error.ErrorTypeHierarchy.FirstOrDefault() ?? "cause";
                text.Append("\n  caused by ").Append(type[(type.LastIndexOf('.') + 1)..]).Append(": ").Append(FirstLine(error.Message));
                cause = error.HasCauseIdx ? error.CauseIdx : -1;
            }
        }
        if (unavailableHint is not null && e.StatusCode == StatusCode.Unavailable) text.Append(' ').Append(unavailableHint);
        return new EngineException(text.ToString(), e, IsTransient(e), errorClass, sqlState);
    }

    public static string? ErrorId(RpcException e) =>
        Info(e) is { } info && info.Metadata.TryGetValue("errorId", out var id) && id.Length > 0 ? id : null;

    /// <summary>Message parameters as a dictionary (they travel as a JSON object in the metadata), for callers that branch on them.</summary>
    public static IReadOnlyDictionary<string, string> MessageParameters(RpcException e)
    {
        if (Info(e) is not { } info || !info.Metadata.TryGetValue("messageParameters", out var json)) return new Dictionary<string, string>();
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new Dictionary<string, string>();
        }
        catch (JsonException)
        {
            return new Dictionary<string, string>();
        }
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
