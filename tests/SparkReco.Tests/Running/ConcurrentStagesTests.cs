using Microsoft.Extensions.Logging.Abstractions;
using SparkReco.Cli;
using SparkReco.Core.Engine;
using SparkReco.Core.Errors;
using SparkReco.Core.Stages;
using SparkReco.Jobs;
using SparkReco.Jobs.Running;
using SparkReco.Tests.Support;
using static SparkReco.Tests.Support.TestParquet;

namespace SparkReco.Tests.Running;

/// <summary>
/// Engine:ConcurrentStages: independent stages overlap, each on its own engine session, a stage never starts before the
/// stages it reads have finished, and a failure stops the others and is the run's.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class ConcurrentStagesTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<JobRunner> RunnerAsync(int concurrentStages, params IStage[] extra)
    {
        var events = _dir.Combine("events.parquet");
        await WriteEventsAsync(events, Enumerable.Range(0, 40).Select(i => new TestEvent($"u{i % 8}", $"i{i % 5}", "view", T0.AddHours(-i))).ToList());
        var settings = SettingsLoader.Load(null, new Dictionary<string, string?>
        {
            ["Input:Events"] = events,
            ["Output:Path"] = _dir.Combine("out"),
            ["Engine:ConcurrentStages"] = concurrentStages.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        return new JobRunner(settings, Engines.Factory(NullLoggerFactory.Instance), NullLogger.Instance, plan: JobPlan.Create([.. JobPlan.AllStages(), .. extra]));
    }

    [Fact]
    public async Task Independent_stages_overlap_on_separate_sessions_and_readers_wait_for_their_inputs()
    {
        using var meeting = new Meeting();
        var left = new MeetingStage("left", meeting);
        var right = new MeetingStage("right", meeting);
        var after = new ReaderStage("after", ["left", "right"]);
        var runner = await RunnerAsync(2, left, right, after);

        var result = await runner.RunAsync(CancellationToken.None);

        // Each waited (up to a minute) until the other was running: only possible if both ran at the same time.
        Assert.True(left.SawOther, "left never saw right running");
        Assert.True(right.SawOther, "right never saw left running");
        Assert.NotSame(left.Engine, right.Engine);
        // The reader started after both of its inputs were finished, and read their tables.
        Assert.True(after.StartedAfterInputs);
        Assert.Equal(2, result.Manifest.Stages.Single(s => s.Stage == "after").Rows);
    }

    [Fact]
    public async Task A_failing_stage_stops_the_run_with_its_own_error_while_another_runs()
    {
        using var meeting = new Meeting();
        var slow = new MeetingStage("slow", meeting, waitForCancel: true);
        var failing = new MeetingStage("failing", meeting, fail: true);
        var runner = await RunnerAsync(2, slow, failing);

        var e = await Assert.ThrowsAsync<EngineException>(() => runner.RunAsync(CancellationToken.None));

        Assert.Equal("failing", e.Stage);
        Assert.True(slow.Cancelled, "the stage running beside the failed one was not cancelled");
        Assert.False(Directory.Exists(_dir.Combine("out", "_SUCCESS")));
    }

    /// <summary>Two stages that each wait until the other has started.</summary>
    private sealed class Meeting : IDisposable
    {
        private readonly CountdownEvent _arrived = new(2);

        public void Dispose() => _arrived.Dispose();

        public bool ArriveAndWait()
        {
            _arrived.Signal();
            return _arrived.Wait(TimeSpan.FromMinutes(1));
        }
    }

    private sealed class MeetingStage(string name, Meeting meeting, bool fail = false, bool waitForCancel = false) : IStage
    {
        public string Name => name;
        public string Description => "meets another stage";
        public IReadOnlyList<string> Inputs => ["affinity"];
        public bool IsOutput => false;
        public IReadOnlyList<string> OutputOrder => [];
        public bool SawOther { get; private set; }
        public bool Cancelled { get; private set; }
        public IEngine? Engine { get; private set; }
        public IEnumerable<string> RenderSql(StageContext context) => ["SELECT 1"];

        public async Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
        {
            Engine = engine;
            SawOther = meeting.ArriveAndWait();
            if (fail) return await engine.CreateTableAsync(Name, "SELECT * FROM no_such_table", cancellationToken);
            if (waitForCancel)
            {
                try
                {
                    await Task.Delay(TimeSpan.FromMinutes(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    Cancelled = true;
                    throw;
                }
            }
            return await engine.CreateTableAsync(Name, "SELECT 1 AS x", cancellationToken);
        }
    }

    private sealed class ReaderStage(string name, IReadOnlyList<string> inputs) : IStage
    {
        public string Name => name;
        public string Description => "reads other stages' tables";
        public IReadOnlyList<string> Inputs => inputs;
        public bool IsOutput => false;
        public IReadOnlyList<string> OutputOrder => [];
        public bool StartedAfterInputs { get; private set; }
        public IEnumerable<string> RenderSql(StageContext context) => ["SELECT 1"];

        public async Task<long> RunAsync(IEngine engine, StageContext context, CancellationToken cancellationToken)
        {
            // The inputs' tables exist (a missing one would fail the statement) and hold their rows.
            var rows = await engine.QueryAsync($"SELECT (SELECT count(*) FROM {string.Join(") + (SELECT count(*) FROM ", inputs.Select(context.Q))}) AS n", cancellationToken);
            StartedAfterInputs = Convert.ToInt64(rows[0]["n"], System.Globalization.CultureInfo.InvariantCulture) == inputs.Count;
            return await engine.CreateTableAsync(Name, $"SELECT * FROM {context.Q(inputs[0])} UNION ALL SELECT * FROM {context.Q(inputs[1])}", cancellationToken);
        }
    }
}
