using SparkReco.Core.Engine;
using SparkReco.Core.Sql;

namespace SparkReco.Core.Stages;

/// <summary>
/// One ordered step of a <see cref="StepStage"/>. <c>run</c> executes the steps on an engine and <c>plan</c> prints them,
/// walking the same sequence (<see cref="StepWalker"/>), so the plan shows every statement a run executes. SQL text never
/// depends on what a fit produced: fitted numbers travel as registered rows (<see cref="RegisterStep"/>).
/// </summary>
public abstract class StageStep
{
    /// <summary>What the plan prints for the step (statements end without <c>;</c>; a comment-only entry is a note).</summary>
    public abstract IEnumerable<string> Render(ISqlDialect dialect);
}

/// <summary>Materialises <paramref name="table"/> from a <c>SELECT</c> (the dialect's statement form); <paramref name="onRows"/> hears the row count.</summary>
public sealed class MaterializeStep(string table, string select, Action<long>? onRows = null) : StageStep
{
    public string Table => table;
    public string Select => select;
    public Action<long>? OnRows => onRows;

    public override IEnumerable<string> Render(ISqlDialect dialect) => dialect.Materialize(table, select);
}

/// <summary>A statement with no result (a view over other tables).</summary>
public sealed class ExecuteStep(string sql) : StageStep
{
    public string Sql => sql;

    public override IEnumerable<string> Render(ISqlDialect dialect) => [sql];
}

/// <summary>
/// A small result pulled to the driver: a bounded sample, sizes, facts. <paramref name="onRows"/> gets the rows at run time;
/// in <c>plan</c> it gets <paramref name="planRows"/> when the rest of the stage's SQL depends on the answer (e.g. the
/// category names that become feature columns), and is not called otherwise.
/// </summary>
public sealed class QueryStep(string sql, Action<IReadOnlyList<IReadOnlyDictionary<string, object?>>> onRows, IReadOnlyList<IReadOnlyDictionary<string, object?>>? planRows = null) : StageStep
{
    public string Sql => sql;
    public Action<IReadOnlyList<IReadOnlyDictionary<string, object?>>> OnRows => onRows;
    public IReadOnlyList<IReadOnlyDictionary<string, object?>>? PlanRows => planRows;

    public override IEnumerable<string> Render(ISqlDialect dialect) => [sql];
}

/// <summary>
/// A model's input pulled to the driver as typed columns (<see cref="IEngine.ReadColumnsAsync"/>), for results too large for
/// <see cref="QueryStep"/>'s rows (e.g. EASE's co-occurrence matrix); <paramref name="onColumns"/> gets them at run time only.
/// </summary>
public sealed class ReadStep(string sql, Action<ColumnTable> onColumns) : StageStep
{
    public string Sql => sql;
    public Action<ColumnTable> OnColumns => onColumns;

    public override IEnumerable<string> Render(ISqlDialect dialect) => [sql];
}

/// <summary>Work on the driver with no SQL, such as fitting a model on a pulled sample; <c>plan</c> prints <paramref name="what"/> as a note.</summary>
public sealed class DriverStep(string what, Action run) : StageStep
{
    public string What => what;
    public Action Run => run;

    public override IEnumerable<string> Render(ISqlDialect dialect) => [$"-- on the driver: {what}"];
}

/// <summary>
/// A small driver-made table (centroids, weights, profiles, a key) registered through the engine's bulk row registration
/// (<see cref="IEngine.WriteTableAsync(string, IReadOnlyList{ValueTuple{string, ColumnType}}, IAsyncEnumerable{ColumnTable}, bool, CancellationToken)"/>):
/// values never appear in SQL text. <c>plan</c> shows its shape, never its values (<paramref name="rowsDescription"/> says
/// which rows a run registers); <paramref name="rows"/> is called at run time only, after the steps before it.
/// </summary>
public sealed class RegisterStep(string table, IReadOnlyList<(string Name, ColumnType Type)> schema, string rowsDescription, Func<ColumnTable> rows, bool sessionOnly = false) : StageStep
{
    public string Table => table;
    public IReadOnlyList<(string Name, ColumnType Type)> Schema => schema;
    public string RowsDescription => rowsDescription;
    public Func<ColumnTable> Rows => rows;
    public bool SessionOnly => sessionOnly;

    public override IEnumerable<string> Render(ISqlDialect dialect) => [Describe(dialect, table, schema, rowsDescription, sessionOnly)];

    /// <summary>The plan's line for a registration; a run's trace of <c>WriteTableAsync</c> describes it the same way.</summary>
    public static string Describe(ISqlDialect dialect, string table, IEnumerable<(string Name, ColumnType Type)> schema, string? rowsDescription, bool sessionOnly)
    {
        ArgumentNullException.ThrowIfNull(dialect);
        return $"-- register driver-made table {table} ({string.Join(", ", schema.Select(c => $"{c.Name} {TypeName(dialect, c.Type)}"))}){(sessionOnly ? ", session only" : "")} as rows" +
            (rowsDescription is null ? "" : $": {rowsDescription}");
    }

    private static string TypeName(ISqlDialect dialect, ColumnType type) => type switch
    {
        ColumnType.Int32Bit => "INT",
        ColumnType.Int64Bit => "BIGINT",
        ColumnType.Real => "DOUBLE",
        ColumnType.Text => dialect.StringType,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };
}
