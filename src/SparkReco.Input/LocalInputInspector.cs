using Parquet;
using Parquet.Schema;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;

namespace SparkReco.Input;

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
        var tables = InputContract.Tables(settings);
        foreach (var table in tables) ThrowIfRemote(table.Setting, table.Path);

        var problems = new List<string>();
        var checkedTables = new Dictionary<string, InputTable?>(StringComparer.Ordinal);
        foreach (var table in tables)
            checkedTables[table.Table] = await CheckAsync(table, problems, cancellationToken);
        InputContract.ThrowIfAny(problems);
        return new InputCatalog(checkedTables["events"]!, checkedTables.GetValueOrDefault("items"), checkedTables.GetValueOrDefault("follows"));
    }

    /// <summary>One table's files on this machine: <see cref="CheckAsync(string, string, string, IReadOnlyList{ContractColumn}, List{string}, CancellationToken)"/>.</summary>
    internal static Task<InputTable?> CheckAsync(ContractTable table, List<string> problems, CancellationToken cancellationToken) =>
        CheckAsync(table.Table, table.Setting, table.Path, table.Columns, problems, cancellationToken);

    /// <summary>
    /// This inspector reads local files. A data-lake URL (s3://, abfss://, hdfs://, gs://, …) is not a missing file: say
    /// what is supported instead of "does not exist". The Spark engine checks such inputs through the server
    /// (<see cref="LakeInputInspector"/>); this one is used for them only where no server may be asked (DuckDB, plan).
    /// </summary>
    private static void ThrowIfRemote(string setting, string? path)
    {
        if (LakePaths.RemoteScheme(path) is not { } scheme) return;
        throw new ConfigurationException(
            $"setting '{setting}' is '{path}', a remote {scheme}:// path; the embedded engine (DuckDB) reads local files only, and so does the input check " +
            "of commands that do not connect to a server (plan). Run with the Spark engine (Engine:Kind=spark and Engine:SparkRemote), which checks and reads " +
            "data-lake inputs through the Spark server, or copy the data to a local folder (README, Running on Spark).");
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
                problems.Add(InputContract.MixedIdTypes(table, column, stringFile, integerFile));
        }
        if (common is null) return null;
        if (rows == 0 && table == "events")
            problems.Add(InputContract.EmptyEvents(path));
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

    private static HashSet<string> CheckColumns(string table, string shown, IReadOnlyList<DataField> fields, IReadOnlyList<ContractColumn> columns, List<string> problems, HashSet<string> partitionKeys) =>
        InputContract.CheckColumns(table, shown, fields, f => f.Name, (kind, f) => Accepts(kind, f.ClrType), f => Describe(f.ClrType), columns, problems, partitionKeys);

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

    private static string Describe(Type type) => IsString(type) ? "string" : type.Name.ToLowerInvariant();

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
