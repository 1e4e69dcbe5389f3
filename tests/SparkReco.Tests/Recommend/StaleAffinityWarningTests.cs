using Microsoft.Extensions.Logging;
using SparkReco.Jobs.Stages.Recommend;

namespace SparkReco.Tests.Recommend;

/// <summary>
/// The run says when the half-life weighs most of the history down to almost nothing (rating-style data under the
/// feed default): cf_affinity counts the pairs last engaged with more than three half-lives before as_of and warns,
/// naming Affinity:HalfLifeDays, when they are the majority; fresh data gets no warning.
/// </summary>
public sealed class StaleAffinityWarningTests
{
    [Theory]
    [InlineData(200, 30, 3, true)]    // 200 days old at a 30-day half-life: 6.7 half-lives, every pair stale
    [InlineData(200, 3650, 0, false)] // the same data with a ten-year half-life
    [InlineData(20, 30, 0, false)]    // recent engagement at the default
    public async Task Most_pairs_older_than_three_half_lives_give_a_warning_naming_the_setting(int ageDays, int halfLifeDays, long expectedStale, bool warns)
    {
        var rows = new[]
        {
            new AffinityRow("u1", "i1", 1.0, CfHarness.AsOf.AddDays(-ageDays)),
            new AffinityRow("u1", "i2", 1.0, CfHarness.AsOf.AddDays(-ageDays)),
            new AffinityRow("u2", "i1", 1.0, CfHarness.AsOf.AddDays(-ageDays - 1)),
        };
        await using var h = await CfHarness.OpenAsync(rows, new Dictionary<string, string?> { ["Affinity:HalfLifeDays"] = halfLifeDays.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        var logger = new RecordingLogger();
        h.Context.Logger = logger;
        await h.RunAsync([new CfAffinityStage()]);

        Assert.Equal(3L, h.Context.Facts["cf_affinity.pairs"]);
        Assert.Equal(expectedStale, h.Context.Facts["cf_affinity.stale_pairs"]);
        var warnings = logger.Messages.Where(m => m.Level == LogLevel.Warning).Select(m => m.Text).ToList();
        if (warns)
        {
            var warning = Assert.Single(warnings);
            Assert.Contains("100%", warning, StringComparison.Ordinal);
            Assert.Contains("Affinity:HalfLifeDays=30", warning, StringComparison.Ordinal);
            Assert.EndsWith(CfAffinityStage.StaleHistoryNote(h.Context)!, warning, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(warnings);
            Assert.Null(CfAffinityStage.StaleHistoryNote(h.Context));
        }
    }

    private sealed class RecordingLogger : ILogger
    {
        public List<(LogLevel Level, string Text)> Messages { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Add((logLevel, formatter(state, exception)));
    }
}
