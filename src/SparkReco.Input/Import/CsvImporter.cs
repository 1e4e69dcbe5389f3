using System.Text;
using Parquet;
using Parquet.Schema;
using SparkReco.Core.Errors;

namespace SparkReco.Input.Import;

/// <summary>
/// Converts one CSV/TSV file into a contract table (<c>events</c>, <c>items</c> or <c>follows</c>) at
/// <c>&lt;OutputDirectory&gt;/part-00000.parquet</c>. Streams in row groups, and writes to a temporary
/// file renamed at the end, so a failed import leaves nothing half-written. Every data error names the
/// file, line, column and value, and says how to fix it.
/// </summary>
public static class CsvImporter
{
    /// <summary>Rows per row group: bounded memory whatever the file size.</summary>
    public const int RowGroupSize = 500_000;

    public const string Events = "events";
    public const string Items = "items";
    public const string Follows = "follows";

    public static async Task<ImportResult> ImportAsync(ImportOptions options, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        var parser = new TimeParser(options.TimeFormat);

        var fileName = Path.GetFileName(options.InputPath);
        if (!File.Exists(options.InputPath))
        {
            throw new InputDataException($"{fileName}: file not found at '{Path.GetFullPath(options.InputPath)}'. Check the input path.");
        }

        // Sniff and check from a first pass over the start of the file, then read it from the start again:
        // simpler than replaying a buffered prefix, and re-reading 64 KiB costs nothing next to the import.
        string sample;
        bool gzip, wholeFile;
        using (var probe = ImportSource.Open(options.InputPath, fileName, out gzip))
        {
            sample = ImportSource.ReadSample(probe, fileName, gzip, out wholeFile);
        }

        // An empty file keeps its own, clearer error below instead of "cannot tell the delimiter".
        var detected = options.Delimiter is null && !string.IsNullOrWhiteSpace(sample);
        var delimiter = options.Delimiter ?? (detected ? ImportSource.Sniff(sample, wholeFile, fileName) : ',');
        try
        {
            return await ImportTextAsync(options, fileName, delimiter, detected, gzip, parser, ct);
        }
        catch (InvalidDataException e) when (gzip)
        {
            throw ImportSource.CorruptGzip(fileName, e);
        }
    }

    private static async Task<ImportResult> ImportTextAsync(ImportOptions options, string fileName, char delimiter, bool detected, bool gzip, TimeParser parser, CancellationToken ct)
    {
        using var reader = new StreamReader(ImportSource.Open(options.InputPath, fileName, out _), Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var csv = new CsvRecordReader(reader, delimiter, fileName);
        var line = new List<string>();
        var skipped = 0L;

        // The first non-blank line: the header, or the first row (which then fixes the column count).
        while (csv.TryRead(line) && line.Count == 0)
        {
            skipped++;
        }

        if (line.Count == 0)
        {
            throw new InputDataException(options.HasHeader
                ? $"{fileName} is empty: expected a header line followed by rows."
                : $"{fileName} is empty: expected rows.");
        }

        var header = options.HasHeader ? line.ToArray() : null;
        var layout = new SourceLayout(fileName, header, line.Count);
        var columns = Columns(options, layout, parser);
        var schema = new ParquetSchema(columns.Select(c => c.Field));

        Directory.CreateDirectory(options.OutputDirectory);
        var output = Path.GetFullPath(Path.Combine(options.OutputDirectory, "part-00000.parquet"));
        var temp = output + ".tmp";
        var rows = 0L;
        try
        {
            await using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 20))
            await using (var writer = await ParquetWriter.CreateAsync(schema, stream, cancellationToken: ct))
            {
                var filled = 0;
                var pending = !options.HasHeader; // without a header the line already read is data
                while (pending || csv.TryRead(line))
                {
                    pending = false;
                    if (line.Count == 0)
                    {
                        skipped++;
                        continue;
                    }

                    if (line.Count != layout.ColumnCount)
                    {
                        throw new InputDataException(
                            $"{fileName} line {csv.LineNumber}: expected {layout.ColumnCount} columns ({(header is null ? "as on the first line" : "as in the header")}) but found {line.Count}. " +
                            $"Check the delimiter (--delimiter, now '{ImportSource.Printable(delimiter)}'{(detected ? " as detected" : "")}) and the quoting of values that contain it.");
                    }

                    foreach (var column in columns)
                    {
                        column.Read(filled, line, csv.LineNumber);
                    }

                    if (++filled == RowGroupSize)
                    {
                        await WriteRowGroupAsync(writer, columns, filled, ct);
                        rows += filled;
                        filled = 0;
                    }
                }

                if (filled > 0)
                {
                    await WriteRowGroupAsync(writer, columns, filled, ct);
                    rows += filled;
                }
            }

            if (rows == 0)
            {
                throw new InputDataException($"{fileName} has a header but no rows.");
            }

            File.Move(temp, output, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }

        return new ImportResult(rows, skipped, output, delimiter, detected, gzip);
    }

    private static void CheckOptions(ImportOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.InputPath))
        {
            throw new ConfigurationException("Import option InputPath must be a file path.");
        }

        if (string.IsNullOrWhiteSpace(options.OutputDirectory))
        {
            throw new ConfigurationException("Import option OutputDirectory must be a directory path.");
        }

        if (options.Kind is not (Events or Items or Follows))
        {
            throw new ConfigurationException($"Import option Kind '{options.Kind}' is not known; use {Events}, {Items} or {Follows}.");
        }

        if (options.Delimiter is { } d && d is '"' or '\n' or '\r')
        {
            throw new ConfigurationException($"Import option Delimiter '{ImportSource.Printable(d)}' cannot separate fields; use e.g. ',' or '\\t'.");
        }

        if (options.EventTypeColumn is not null && options.ConstantEventType is not null)
        {
            throw new ConfigurationException("Import options EventTypeColumn and ConstantEventType both given; pass only one.");
        }

        if (options.ConstantEventType is { } type && string.IsNullOrWhiteSpace(type))
        {
            throw new ConfigurationException("Import option ConstantEventType must not be empty.");
        }

        if (options.TimeColumn is not null && options.ConstantTime is not null)
        {
            throw new ConfigurationException("Import options TimeColumn and ConstantTime both given; pass only one.");
        }
    }

    /// <summary>The contract columns of the table kind, in contract order, bound to their sources.</summary>
    private static List<OutputColumn> Columns(ImportOptions o, SourceLayout layout, TimeParser parser)
    {
        var file = layout.FileName;
        TextColumn Required(string name, string? given, string flag, string alternative = "") =>
            new(name, file, layout.Find(given, name, flag, required: true, alternative), null, optional: false, flag, RowGroupSize);

        switch (o.Kind)
        {
            case Items:
                return
                [
                    Required("item_id", o.ItemColumn, "--item-column"),
                    Required("category", o.CategoryColumn, "--category-column"),
                    // Creator is optional in the contract: absent column or empty cell → null.
                    new TextColumn("creator_id", file, layout.Find(o.CreatorColumn, "creator_id", "--creator-column", required: false), null, optional: true, "--creator-column", RowGroupSize),
                ];

            case Follows:
                return
                [
                    Required("follower_id", o.FollowerColumn, "--follower-column"),
                    Required("followee_id", o.FolloweeColumn, "--followee-column"),
                ];

            default:
                var columns = new List<OutputColumn>
                {
                    Required("user_id", o.UserColumn, "--user-column"),
                    Required("item_id", o.ItemColumn, "--item-column"),
                    o.ConstantEventType is { } type
                        ? new TextColumn("event_type", file, null, type, optional: false, "--event-type-column", RowGroupSize)
                        : Required("event_type", o.EventTypeColumn, "--event-type-column", ", or give every row the same type with --constant-event-type"),
                    o.ConstantTime is { } time
                        ? new TimeColumn(file, null, AsUtc(time), parser, RowGroupSize)
                        : new TimeColumn(file, layout.Find(o.TimeColumn, "event_time", "--time-column", required: true, ", or give every row the same time with --constant-time when the file has no times"), default, parser, RowGroupSize),
                };
                if (layout.Find(o.WeightColumn, "weight", "--weight-column", required: false) is { } weight)
                {
                    columns.Add(new WeightColumn(file, weight, RowGroupSize));
                }

                return columns;
        }
    }

    private static DateTime AsUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };

    private static async Task WriteRowGroupAsync(ParquetWriter writer, List<OutputColumn> columns, int count, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        using var group = writer.CreateRowGroup();
        foreach (var column in columns)
        {
            await column.WriteAsync(group, count, ct);
        }
    }
}
