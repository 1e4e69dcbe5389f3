using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Sql;

namespace SparkReco.Input;

/// <summary>
/// Inputs on a data lake (s3a://, abfss://, gs://, hdfs://, …) checked through the Spark server, which can read them
/// where this machine cannot: the schema Spark infers for the path (AnalyzePlan, footers only) is checked against the
/// contract with the same messages as <see cref="LocalInputInspector"/>, and the files Spark reads there, with their
/// sizes, modification times and row counts, stand in for the footers this machine would have read (rows, bytes,
/// manifest, fingerprint). Local paths among the settings are checked on this machine as before.
/// </summary>
/// <remarks>
/// What cannot be checked this way (documented in the README): a Hive partition folder named like a data column (Spark
/// reports one merged schema, not each file's), and part files that disagree on an id's type are reported as one problem
/// for the path (Spark refuses to merge the schemas) rather than naming the two files.
/// </remarks>
public sealed class LakeInputInspector : IInputInspector
{
    private readonly Func<CancellationToken, Task<IEngine>> _openEngine;

    /// <param name="openEngine">Opens the engine (a session of its own, closed when the check ends); it must implement <see cref="ILakeFiles"/>.</param>
    public LakeInputInspector(Func<CancellationToken, Task<IEngine>> openEngine)
    {
        _openEngine = openEngine;
    }

    public async Task<InputCatalog> InspectAsync(InputSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var tables = InputContract.Tables(settings);
        var problems = new List<string>();
        var checkedTables = new Dictionary<string, InputTable?>(StringComparer.Ordinal);
        IEngine? engine = null;
        try
        {
            foreach (var table in tables)
            {
                if (!LakePaths.IsRemote(table.Path))
                {
                    checkedTables[table.Table] = await LocalInputInspector.CheckAsync(table, problems, cancellationToken);
                    continue;
                }
                engine ??= await _openEngine(cancellationToken);
                var lake = engine as ILakeFiles
                    ?? throw new InvalidOperationException($"The {engine.Name} engine cannot read data-lake paths; inputs on a lake need the Spark engine.");
                checkedTables[table.Table] = await CheckAsync(lake, table, problems, cancellationToken);
            }
        }
        finally
        {
            if (engine is not null) await engine.DisposeAsync();
        }
        InputContract.ThrowIfAny(problems);
        return new InputCatalog(checkedTables["events"]!, checkedTables.GetValueOrDefault("items"), checkedTables.GetValueOrDefault("follows"));
    }

    internal static async Task<InputTable?> CheckAsync(ILakeFiles lake, ContractTable table, List<string> problems, CancellationToken cancellationToken)
    {
        var (name, setting, path) = (table.Table, table.Setting, table.Path);
        IReadOnlyList<LakeColumn> schema;
        try
        {
            schema = await lake.ParquetSchemaAsync(path, cancellationToken);
        }
        catch (EngineException e) when (IsPathNotFound(e))
        {
            problems.Add($"{name}: path '{path}' (setting '{setting}') does not exist for the Spark server ({FirstLine(e.Message)}); " +
                "point the setting at a Parquet file or a folder of Parquet files that the cluster can read (check the bucket, container and folder names).");
            return null;
        }
        catch (EngineException e) when (e.ErrorClass == "UNABLE_TO_INFER_SCHEMA" || e.Message.Contains("Unable to infer schema", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"{name}: '{path}' (setting '{setting}') holds no Parquet file Spark can read ({FirstLine(e.Message)}); write the {name} as Parquet there or fix the path.");
            return null;
        }
        catch (EngineException e) when (IsSchemaMergeFailure(e))
        {
            problems.Add($"{name}: the part files under '{path}' (setting '{setting}') give a column different types ({FirstLine(e.Message)}); string ids in some files and " +
                "integer ids in others would be merged silently. Write every part file with the same types (e.g. CAST(user_id AS VARCHAR) in the export).");
            return null;
        }

        var before = problems.Count;
        var present = InputContract.CheckColumns(name, path, schema, c => c.Name, Accepts, c => c.TypeName, table.Columns, problems, new HashSet<string>(StringComparer.Ordinal));
        // A contract problem ends the check of this table: counting its rows would be a Spark job for nothing.
        if (problems.Count > before) return null;

        var files = await lake.ParquetFilesAsync(path, cancellationToken);
        var rows = files.Sum(f => f.Rows);
        if (rows == 0 && name == "events") problems.Add(InputContract.EmptyEvents(path));
        var isFile = path.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase);
        // The engine reads the path (Spark lists it itself), so the source names the path, not a file list.
        return new InputTable(name, new ParquetSource(path, IsDirectory: !isFile), files.Select(f => f.Path).ToList(), rows, present, files.Sum(f => f.Bytes), files);
    }

    /// <summary>Spark's PATH_NOT_FOUND, or its message where a server sends no error class.</summary>
    public static bool IsPathNotFound(EngineException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e.ErrorClass == ILakeFiles.PathNotFound || e.Message.Contains("Path does not exist", StringComparison.OrdinalIgnoreCase);
    }

    private static bool IsSchemaMergeFailure(EngineException e) =>
        e.ErrorClass?.StartsWith("CANNOT_MERGE", StringComparison.Ordinal) == true
        || e.Message.Contains("Failed merging schema", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("Failed to merge", StringComparison.OrdinalIgnoreCase);

    private static bool Accepts(ColumnKind kind, LakeColumn column) => kind switch
    {
        ColumnKind.Id => column.Type is LakeType.Text or LakeType.WholeNumber,
        ColumnKind.Text => column.Type == LakeType.Text,
        ColumnKind.Time => column.Type == LakeType.Timestamp,
        ColumnKind.Number => column.Type is LakeType.FloatingPoint or LakeType.WholeNumber or LakeType.FixedPoint,
        _ => false,
    };

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim().TrimEnd('.');
}
