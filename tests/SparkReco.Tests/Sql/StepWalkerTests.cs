using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Stages;
using SparkReco.Engine.DuckDb;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Sql;

/// <summary>What plan and run each do with a stage's steps: plan renders and never runs driver work or asks for rows; run does both, in order.</summary>
public sealed class StepWalkerTests
{
    private static IEnumerable<StageStep> Steps(List<string> heard)
    {
        long total = 0;
        yield return new MaterializeStep("numbers", "SELECT * FROM range(5) AS t(n)", rows => heard.Add($"materialised {rows}"));
        yield return new QueryStep("SELECT sum(n) AS total FROM numbers", rows => total = Convert.ToInt64(rows[0]["total"]),
            planRows: [new Dictionary<string, object?> { ["total"] = 0L }]);
        yield return new DriverStep("double the total", () => heard.Add($"fitted {total * 2}"));
        yield return new RegisterStep("model", [("total", ColumnType.Int64Bit)], "one row: twice the total",
            () => new ColumnTable(1, [Column.Of("total", new[] { total * 2 })]));
        heard.Add("reached the end");
    }

    [Fact]
    public void Plan_renders_every_step_and_runs_nothing_that_needs_the_data()
    {
        var heard = new List<string>();
        var statements = StepWalker.Render(Steps(heard), DuckDbDialect.Instance);
        Assert.Equal(
        [
            .. DuckDbDialect.Instance.Materialize("numbers", "SELECT * FROM range(5) AS t(n)"),
            "SELECT sum(n) AS total FROM numbers",
            "-- on the driver: double the total",
            "-- register driver-made table model (total BIGINT) as rows: one row: twice the total",
        ], statements);
        Assert.Equal(["reached the end"], heard);
    }

    [Fact]
    public async Task Run_executes_the_steps_in_order_and_registers_what_the_driver_made()
    {
        var heard = new List<string>();
        await using var engine = new RecordingEngine(await DuckDbEngine.OpenAsync(new EngineSettings("duckdb", 1, null, null), NullLogger.Instance, CancellationToken.None));
        var result = new StageRows();
        await StepWalker.RunAsync("model", Steps(heard), engine, result, NullLogger.Instance, CancellationToken.None);

        Assert.Equal(["materialised 5", "fitted 20", "reached the end"], heard);
        Assert.Equal(1, result.Rows);
        Assert.Equal(20L, Convert.ToInt64((await engine.QueryAsync("SELECT total FROM model", CancellationToken.None))[0]["total"]));
        // The engine was asked for exactly what plan prints (driver work aside; a registration by its shape), then the check's query.
        static string Shape(string s) => s.StartsWith("-- register ", StringComparison.Ordinal) ? s[..(s.IndexOf(" as rows", StringComparison.Ordinal) + 8)] : s;
        Assert.Equal(
            StepWalker.Render(Steps([]), engine.Dialect).Where(s => !s.StartsWith("-- on the driver", StringComparison.Ordinal)).Select(Shape),
            engine.Trace.SkipLast(1).Select(Shape));
    }
}
