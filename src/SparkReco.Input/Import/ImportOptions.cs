namespace SparkReco.Input.Import;

/// <summary>
/// How to turn one CSV/TSV file into a contract table. Columns are header names, or 1-based positions
/// ("1", "2", …) when the file has no header; a column left null means the contract name in the header.
/// </summary>
/// <param name="Delimiter">The field delimiter; null sniffs it from the first lines (',', tab, ';' or '|').</param>
/// <param name="TimeFormat"><c>auto</c> (decided from the first value), <c>epoch-seconds</c>, <c>epoch-millis</c> or <c>iso</c>.</param>
/// <param name="ConstantEventType">Event type for every row when the file has none (e.g. "rating", "play").</param>
/// <param name="ConstantTime">Event time for every row when the file has no times (e.g. Last.fm play counts).</param>
/// <param name="Kind"><c>events</c>, <c>items</c> or <c>follows</c>.</param>
/// <param name="CategoryColumn">Items: the category column (default <c>category</c>).</param>
/// <param name="CreatorColumn">Items: the creator column (default <c>creator_id</c>; optional, null when absent).</param>
/// <param name="FollowerColumn">Follows: the follower column (default <c>follower_id</c>).</param>
/// <param name="FolloweeColumn">Follows: the followee column (default <c>followee_id</c>).</param>
public sealed record ImportOptions(
    string InputPath,
    string OutputDirectory,
    char? Delimiter = null,
    bool HasHeader = true,
    string? UserColumn = null,
    string? ItemColumn = null,
    string? EventTypeColumn = null,
    string? TimeColumn = null,
    string? WeightColumn = null,
    string TimeFormat = "auto",
    string? ConstantEventType = null,
    DateTime? ConstantTime = null,
    string Kind = "events",
    string? CategoryColumn = null,
    string? CreatorColumn = null,
    string? FollowerColumn = null,
    string? FolloweeColumn = null);

/// <summary>Rows written, blank lines skipped, the Parquet file produced, the delimiter used (and whether it was sniffed), and whether the input was gzip.</summary>
public sealed record ImportResult(long Rows, long SkippedRows, string OutputFile, char Delimiter, bool DelimiterDetected, bool Gzip);
