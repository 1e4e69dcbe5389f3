using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace SparkReco.Engine.Spark;

/// <summary>
/// Retries of transient transport failures (the server unreachable, a connection reset: gRPC UNAVAILABLE, or an error the
/// server marks retryable with RetryInfo): at most <see cref="MaxAttempts"/> tries, waiting
/// <see cref="InitialBackoff"/> × <see cref="Multiplier"/>^n (capped at <see cref="MaxBackoff"/>) between them. Query
/// errors (a bad column, ANSI overflow) are never retried: they would fail the same way again.
/// </summary>
public sealed record SparkRetryPolicy(int MaxAttempts, TimeSpan InitialBackoff, TimeSpan MaxBackoff, double Multiplier = 2)
{
    /// <summary>About a minute in all (0.5 + 1 + 2 + 4 + 8 + 16 + 30 s): long enough for a Connect server that restarts.</summary>
    public static SparkRetryPolicy Default { get; } = new(8, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(30));

    public TimeSpan Backoff(int attempt)
    {
        var ms = InitialBackoff.TotalMilliseconds * Math.Pow(Multiplier, Math.Max(0, attempt - 1));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxBackoff.TotalMilliseconds));
    }
}

/// <summary>How <see cref="SparkConnectEngine"/> reaches its server.</summary>
public sealed record SparkConnectOptions(SparkRemote Remote)
{
    public SparkRetryPolicy Retry { get; init; } = SparkRetryPolicy.Default;

    /// <summary><c>spark.sql.ansi.enabled</c> for the session (see <see cref="SparkConnectEngine"/> for why it is pinned off).</summary>
    public bool AnsiMode { get; init; }

    /// <summary>The name the setting came from, for messages (<c>Engine:SparkRemote</c>).</summary>
    public string Setting { get; init; } = "Engine:SparkRemote";

    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>
    /// The size (estimated from the values) above which a driver-made table is sent as several LocalRelations. 16 MiB keeps
    /// each request far below Spark Connect's default 128 MB inbound limit; tests set it small. Not a user setting: it
    /// changes how rows travel, never what the tables hold.
    /// </summary>
    public long LocalRelationChunkBytes { get; init; } = 16 * 1024 * 1024;
}
