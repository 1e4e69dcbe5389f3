using Parquet;
using Parquet.Schema;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;

namespace SparkReco.Input;

/// <summary>One contract column: its name in the user's files, the kinds of type it accepts, and whether it must be there.</summary>
internal sealed record ContractColumn(string Contract, string Actual, ColumnKind Kind, bool Required);

internal enum ColumnKind { Id, Text, Time, Number }

/// <summary>A checked input table: where it is, how many rows the footers promise, and which optional columns it has.</summary>
public sealed record InputTable(string Name, ParquetSource Source, IReadOnlyList<string> Files, long Rows, IReadOnlySet<string> Columns, long Bytes);

/// <summary>The inputs of a run after their Parquet footers were checked against the contract.</summary>
public sealed record InputCatalog(InputTable Events, InputTable? Items, InputTable? Follows)
{
    public bool EventsHaveWeight(ColumnMapping columns) => Events.Columns.Contains(columns.Weight);
}

/// <summary>
/// Finds a run's input files and checks them against the contract before any engine work, so what is checked is what the
/// engine reads (the catalog lists the files). One implementation per kind of storage: <see cref="LocalInputInspector"/>
/// reads Parquet footers on this machine; a data-lake inspector (through the Spark engine, or an object-store client)
/// would implement the same contract.
/// </summary>
public interface IInputInspector
{
    Task<InputCatalog> InspectAsync(InputSettings settings, CancellationToken cancellationToken);
}

/// <summary>Chooses the input inspector for a run's settings.</summary>
public static class InputInspectors
{
    /// <summary>Every engine reads inputs that this machine can see today (local paths, or a lake mounted at the same path).</summary>
    public static IInputInspector For(JobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return LocalInputInspector.Instance;
    }
}

/// <summary>Inputs on this machine's file system: every file's Parquet footer is read and checked (no data pages).</summary>
public sealed class LocalInputInspector : IInputInspector
{
    public static LocalInputInspector Instance { get; } = new();

    private LocalInputInspector()
    {
    }

    /// <summary>
    /// Resolves every input path and reads each file's footer (cheap: no data pages) to check the
    /// contract before the engine starts. All problems are reported together, each naming the
    /// file, the column, what is wrong and how to fix it.
    /// </summary>
    public async Task<InputCatalog> InspectAsync(InputSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Events is null)
            throw new ConfigurationException("setting 'Input:Events' is not set; give the events Parquet path in the config file, as SPARKRECO__Input__Events, or with --events.");

        foreach (var (setting, path) in new[] { ("Input:Events", settings.Events), ("Input:Items", settings.Items), ("Input:Follows", settings.Follows) })
            ThrowIfRemote(setting, path);

        var c = settings.Columns;
        var problems = new List<string>();
        var events = await CheckAsync("events", "Input:Events", settings.Events, [
            new(Contract: "user_id", c.UserId, ColumnKind.Id, true),
            new("item_id", c.ItemId, ColumnKind.Id, true),
            new("event_type", c.EventType, ColumnKind.Text, true),
            new("event_time", c.EventTime, ColumnKind.Time, true),
            new("weight", c.Weight, ColumnKind.Number, false),
        ], problems, cancellationToken);
        var items = settings.Items is null ? null : await CheckAsync("items", "Input:Items", settings.Items, [
            new("item_id", c.ItemId, ColumnKind.Id, true),
            new("category", c.Category, ColumnKind.Text, true),
            new("creator_id", c.CreatorId, ColumnKind.Id, false),
        ], problems, cancellationToken);
        var follows = settings.Follows is null ? null : await CheckAsync("follows", "Input:Follows", settings.Follows, [
            new("follower_id", c.FollowerId, ColumnKind.Id, true),
            new("followee_id", c.FolloweeId, ColumnKind.Id, true),
        ], problems, cancellationToken);

        if (problems.Count > 0)
        {
            const int Shown = 20;
            var lines = problems.Take(Shown).ToList();
            if (problems.Count > Shown) lines.Add($"... and {problems.Count - Shown} more problems of the same kinds.");
            throw new InputDataException("Input data does not match the contract:" + Environment.NewLine + string.Join(Environment.NewLine, lines.Select(p => "  - " + p)), problems);
        }
        return new InputCatalog(events!, items, follows);
    }

    /// <summary>
    /// This inspector reads local files. A data-lake URL (s3://, abfss://, hdfs://, gs://, …) is not a missing file: say
    /// what is supported instead of "does not exist". (The Spark engine could read the lake, but this check runs first and
    /// reads footers on the driver; inspecting remote inputs through the engine is not built yet.)
    /// </summary>
    private static void ThrowIfRemote(string setting, string? path)
    {
        if (path is null) return;
        var scheme = System.Text.RegularExpressions.Regex.Match(path, "^([A-Za-z][A-Za-z0-9+.-]+)://");
        if (!scheme.Success || scheme.Groups[1].Value.Equals("file", StringComparison.OrdinalIgnoreCase)) return;
        throw new ConfigurationException(
            $"setting '{setting}' is '{path}', a remote {scheme.Groups[1].Value.ToLowerInvariant()}:// path; the embedded engine (DuckDB) reads local files only, " +
            "and the input check that runs before every engine reads Parquet footers on this machine, so this build does not take data-lake inputs on the Spark engine either. " +
            "Copy the data to a local folder, or for the Spark engine to a file system mounted at the same path on this machine and the Spark server (README, Running on Spark).");
    }

    private static async Task<InputTable?> CheckAsync(string table, string setting, string path, IReadOnlyList<ContractColumn> columns, List<string> problems, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        bool isDirectory = Directory.Exists(full);
        if (!isDirectory && !File.Exists(full))
        {
            problems.Add($"{table}: path '{path}'{(full == path ? "" : $" ({full})")} (setting '{setting}') does not exist; point the setting at a Parquet file or a folder of Parquet files (relative paths: from the config file's folder when set there, else from the working directory).");
            return null;
        }

        var files = isDirectory
            ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
                .Where(f => !IsHidden(full, f))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [full];
        var parquetFiles = files.Where(f => f.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase)).ToList();
        foreach (var other in files.Except(parquetFiles).Take(3))
            problems.Add($"{table}: '{Relative(full, other)}' in '{path}' is not a .parquet file; move it out of the input folder (only Parquet part files may be there).");
        if (parquetFiles.Count == 0)
        {
            if (isDirectory) problems.Add($"{table}: folder '{path}' (setting '{setting}') holds no .parquet files; write the {table} as Parquet there or fix the path.");
            return null;
        }

        long rows = 0, bytes = 0;
        HashSet<string>? common = null;
        // Per id column: the first file seen with a string type and the first with an integer type.
        var idKinds = new Dictionary<string, (string? StringFile, string? IntegerFile)>(StringComparer.Ordinal);
        foreach (var file in parquetFiles)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var shown = isDirectory ? Path.Combine(path, Relative(full, file)) : path;
            var footer = await ReadFooterAsync(file, shown, table, problems, cancellationToken);
            if (footer is null) continue;
            rows += footer.Value.Rows;
            bytes += new FileInfo(file).Length;
            var names = CheckColumns(table, shown, footer.Value.Fields, columns, problems, HivePartitionKeys(full, file));
            foreach (var column in columns.Where(c => c.Kind == ColumnKind.Id))
            {
                var field = footer.Value.Fields.FirstOrDefault(f => f.Name == column.Actual);
                if (field is null || !Accepts(ColumnKind.Id, field.ClrType)) continue;
                var seen = idKinds.GetValueOrDefault(column.Actual);
                idKinds[column.Actual] = IsString(field.ClrType) ? (seen.StringFile ?? shown, seen.IntegerFile) : (seen.StringFile, seen.IntegerFile ?? shown);
            }
            if (common is null) common = names;
            else common.IntersectWith(names);
        }
        // The engine reads ids as strings: "1" in one part file and 1 in another would become one user or item.
        foreach (var (column, (stringFile, integerFile)) in idKinds)
        {
            if (stringFile is not null && integerFile is not null)
                problems.Add($"{table}: column '{column}' is a string in '{stringFile}' but an integer in '{integerFile}'; ids such as \"1\" and 1 would be merged silently. " +
                    $"Write every part file with the same type (e.g. CAST({column} AS VARCHAR) in the export).");
        }
        if (common is null) return null;
        if (rows == 0 && table == "events")
            problems.Add($"events: '{path}' holds 0 rows; there is nothing to compute. Check that the export that writes it succeeded.");
        return new InputTable(table, new ParquetSource(full, isDirectory, parquetFiles), parquetFiles, rows, common, bytes);
    }

    private static async Task<(long Rows, IReadOnlyList<DataField> Fields)?> ReadFooterAsync(string file, string shown, string table, List<string> problems, CancellationToken cancellationToken)
    {
        try
        {
            await using var stream = File.OpenRead(file);
            await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
            long rows = 0;
            for (var i = 0; i < reader.RowGroupCount; i++) rows += reader.OpenRowGroupReader(i).RowCount;
            return (rows, reader.Schema.GetDataFields());
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or ArgumentException or InvalidOperationException or Parquet.ParquetException)
        {
            problems.Add($"{table}: '{shown}' is not a readable Parquet file ({e.Message.TrimEnd('.')}); re-export it as Parquet or remove it.");
            return null;
        }
    }

    private static HashSet<string> CheckColumns(string table, string shown, IReadOnlyList<DataField> fields, IReadOnlyList<ContractColumn> columns, List<string> problems, HashSet<string> partitionKeys)
    {
        var byName = fields.GroupBy(f => f.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var present = new HashSet<string>(byName.Keys, StringComparer.Ordinal);
        // With Hive partitioning the folder's value replaces the file's column (every event became a "like").
        foreach (var key in partitionKeys.Where(byName.ContainsKey).Order(StringComparer.Ordinal))
            problems.Add($"{table}: '{shown}' lies in a Hive partition folder '{key}=…' and also has a column '{key}'; the folder's value would replace the file's. " +
                "Rename the partition folder or the column so they differ.");
        present.UnionWith(partitionKeys);
        foreach (var column in columns)
        {
            if (!byName.TryGetValue(column.Actual, out var field))
            {
                if (partitionKeys.Contains(column.Actual)) continue;
                if (!column.Required) continue;
                var mapped = column.Actual == column.Contract ? "" : $" (mapped from '{column.Contract}')";
                var caseHint = byName.Keys.FirstOrDefault(k => string.Equals(k, column.Actual, StringComparison.OrdinalIgnoreCase));
                var fix = caseHint is not null
                    ? $"the file has '{caseHint}': names are case-sensitive, set Input:Columns:{Pascal(column.Contract)} to \"{caseHint}\""
                    : $"add the column, or map it with Input:Columns:{Pascal(column.Contract)}";
                problems.Add($"{table}: '{shown}' has no column '{column.Actual}'{mapped}; {fix}. Columns present: {string.Join(", ", byName.Keys)}.");
                continue;
            }
            if (!Accepts(column.Kind, field.ClrType))
                problems.Add($"{table}: '{shown}' column '{column.Actual}' has type {Describe(field.ClrType)}; expected {Expected(column.Kind)}. Cast it when exporting (e.g. CAST({column.Actual} AS {SqlType(column.Kind)})).");
        }
        return present;
    }

    // Parquet.Net 6 reports UTF-8 string columns as ReadOnlyMemory<char>.
    private static bool IsString(Type type) => type == typeof(string) || type == typeof(ReadOnlyMemory<char>);

    private static bool Accepts(ColumnKind kind, Type type) => kind switch
    {
        ColumnKind.Id => IsString(type) || type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong),
        ColumnKind.Text => IsString(type),
        ColumnKind.Time => type == typeof(DateTime) || type == typeof(DateTimeOffset),
        ColumnKind.Number => type == typeof(double) || type == typeof(float) || type == typeof(int) || type == typeof(long) || type == typeof(decimal) || type == typeof(short),
        _ => false,
    };

    private static string Expected(ColumnKind kind) => kind switch
    {
        ColumnKind.Id => "a string or integer id",
        ColumnKind.Text => "a string",
        ColumnKind.Time => "a timestamp (Parquet TIMESTAMP, UTC)",
        _ => "a number (double preferred)",
    };

    private static string SqlType(ColumnKind kind) => kind switch
    {
        ColumnKind.Id or ColumnKind.Text => "VARCHAR",
        ColumnKind.Time => "TIMESTAMP",
        _ => "DOUBLE",
    };

    private static string Describe(Type type) => IsString(type) ? "string" : type.Name.ToLowerInvariant();

    private static string Pascal(string contract) => string.Concat(contract.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));

    /// <summary>Hive partition keys on the path below the input folder, e.g. dt for dt=2026-11-01/part-0.parquet.</summary>
    private static HashSet<string> HivePartitionKeys(string root, string file)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var relative = Path.GetRelativePath(root, Path.GetDirectoryName(file)!);
        if (relative == ".") return keys;
        foreach (var part in relative.Split(Path.DirectorySeparatorChar))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) keys.Add(part[..eq]);
        }
        return keys;
    }

    // Spark and Hadoop leave _SUCCESS, _committed_* and .crc files beside part files; they are not data.
    private static bool IsHidden(string root, string file) =>
        Path.GetRelativePath(root, file).Split(Path.DirectorySeparatorChar).Any(p => p.StartsWith('_') || p.StartsWith('.'));

    private static string Relative(string root, string file) => Path.GetRelativePath(root, file);
}
