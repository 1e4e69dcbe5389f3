using System.Globalization;
using Parquet;
using Parquet.Schema;
using SparkReco.Core.Errors;

namespace SparkReco.Input.Import;

/// <summary>A source column: its 0-based index and how to name it in messages.</summary>
internal sealed record SourceColumn(int Index, string Label);

/// <summary>Where each line's values come from: the header's names, or only positions when there is no header.</summary>
internal sealed class SourceLayout(string fileName, IReadOnlyList<string>? header, int columnCount)
{
    public string FileName => fileName;
    public int ColumnCount => columnCount;

    /// <summary>
    /// Finds the column for one output field. <paramref name="given"/> is the user's option (name or
    /// 1-based position); null falls back to <paramref name="contractName"/> in the header. Returns null
    /// only when the column is optional and absent.
    /// </summary>
    /// <param name="alternative">Another way to supply the value, appended to the fix (e.g. a constant option).</param>
    public SourceColumn? Find(string? given, string contractName, string flag, bool required, string alternative = "")
    {
        if (given is not null)
        {
            return ByName(given) ?? ByPosition(given) ?? throw NotFound(given, flag);
        }

        var byDefault = ByName(contractName);
        if (byDefault is not null || !required)
        {
            return byDefault;
        }

        throw new InputDataException(header is null
            ? $"{fileName} has no header, so the {contractName} column must be given by position: pass {flag} <1..{columnCount}>{alternative}."
            : $"{fileName}: the header has no '{contractName}' column (columns: {string.Join(", ", header)}). Pass {flag} <name or 1-based position> to say which column holds {contractName}{alternative}.");
    }

    private SourceColumn? ByName(string name)
    {
        if (header is null)
        {
            return null;
        }

        var index = IndexOf(name, StringComparison.Ordinal);
        if (index < 0)
        {
            index = IndexOf(name, StringComparison.OrdinalIgnoreCase);
        }

        return index < 0 ? null : new SourceColumn(index, $"column '{header[index]}'");
    }

    private int IndexOf(string name, StringComparison comparison)
    {
        for (var i = 0; i < header!.Count; i++)
        {
            if (string.Equals(header[i].Trim(), name.Trim(), comparison))
            {
                return i;
            }
        }

        return -1;
    }

    private SourceColumn? ByPosition(string given) =>
        int.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out var position) && position >= 1 && position <= columnCount
            ? new SourceColumn(position - 1, header is null
                ? string.Create(CultureInfo.InvariantCulture, $"column {position}")
                : string.Create(CultureInfo.InvariantCulture, $"column {position} ('{header[position - 1]}')"))
            : null;

    private InputDataException NotFound(string given, string flag) => new(header is null
        ? $"{fileName} has no header and {columnCount} columns per line, so {flag} must be a position from 1 to {columnCount}, not '{given}'."
        : $"{fileName}: {flag} '{given}' is not a column of the header (columns: {string.Join(", ", header)}) nor a position from 1 to {columnCount}. Pass one of these names or a position.");
}

/// <summary>
/// One output column and its buffer for the current row group: reads its value from each source line
/// and writes the buffered values as a Parquet column chunk.
/// </summary>
internal abstract class OutputColumn(DataField field)
{
    public DataField Field { get; } = field;

    /// <summary>Takes this column's value from a source line (0-based <paramref name="row"/> within the row group).</summary>
    public abstract void Read(int row, List<string> line, int lineNumber);

    public abstract Task WriteAsync(ParquetRowGroupWriter group, int count, CancellationToken ct);

    protected static InputDataException BadValue(string fileName, int lineNumber, SourceColumn column, string value, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"{fileName} line {lineNumber}, {column.Label}: '{Shorten(value)}' {problem}"));

    private static string Shorten(string value) => value.Length <= 80 ? value : value[..77] + "...";
}

/// <summary>An id or label column (user, item, event type, category, …), or a constant for every row.</summary>
internal sealed class TextColumn(string name, string fileName, SourceColumn? source, string? constant, bool optional, string flag, int capacity)
    : OutputColumn(new DataField<string>(name))
{
    private readonly string?[] _values = new string?[capacity];

    public override void Read(int row, List<string> line, int lineNumber)
    {
        if (source is null)
        {
            _values[row] = constant;
            return;
        }

        var value = line[source.Index].Trim();
        if (value.Length == 0)
        {
            _values[row] = optional
                ? null
                : throw BadValue(fileName, lineNumber, source, value, $"is empty but every row needs a {name}; fix the row or pick another column with {flag}.");
            return;
        }

        _values[row] = value;
    }

    public override Task WriteAsync(ParquetRowGroupWriter group, int count, CancellationToken ct) =>
        group.WriteAsync(Field, new ArraySegment<string?>(_values, 0, count)!);
}

/// <summary>event_time, parsed to UTC, or a constant for every row.</summary>
internal sealed class TimeColumn(string fileName, SourceColumn? source, DateTime constant, TimeParser parser, int capacity)
    : OutputColumn(new DateTimeDataField("event_time", DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros))
{
    private readonly DateTime[] _values = new DateTime[capacity];

    public override void Read(int row, List<string> line, int lineNumber)
    {
        if (source is null)
        {
            _values[row] = constant;
            return;
        }

        var value = line[source.Index];
        if (!parser.TryParse(value, out _values[row]))
        {
            throw BadValue(fileName, lineNumber, source, value,
                $"is not an {parser.Describe()} time between 1970 and 2200; pass --time-format {TimeParser.Iso}|{TimeParser.EpochSeconds}|{TimeParser.EpochMillis} to match the file, or pick another column with --time-column.");
        }
    }

    public override Task WriteAsync(ParquetRowGroupWriter group, int count, CancellationToken ct) =>
        group.WriteAsync<DateTime>(Field, _values.AsMemory(0, count), cancellationToken: ct);
}

/// <summary>The optional weight, a finite double.</summary>
internal sealed class WeightColumn(string fileName, SourceColumn source, int capacity)
    : OutputColumn(new DataField<double>("weight"))
{
    private readonly double[] _values = new double[capacity];

    public override void Read(int row, List<string> line, int lineNumber)
    {
        var value = line[source.Index];
        if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var weight) || !double.IsFinite(weight))
        {
            throw BadValue(fileName, lineNumber, source, value,
                "is not a number; weights are plain numbers such as 3 or 0.5 (decimal point, no thousands separator). Fix the value or pick another column with --weight-column.");
        }

        _values[row] = weight;
    }

    public override Task WriteAsync(ParquetRowGroupWriter group, int count, CancellationToken ct) =>
        group.WriteAsync<double>(Field, _values.AsMemory(0, count), cancellationToken: ct);
}
