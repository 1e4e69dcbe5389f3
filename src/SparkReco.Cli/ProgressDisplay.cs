using Spectre.Console;
using SparkReco.Jobs.Running;

namespace SparkReco.Cli;

/// <summary>
/// A live progress display when a person watches a terminal; schedulers (no terminal, or CI) get
/// the plain log lines instead, which is also what Spectre would fall back to.
/// </summary>
public static class ProgressDisplay
{
    public static bool IsInteractive =>
        !Console.IsOutputRedirected && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null
        && AnsiConsole.Profile.Capabilities.Interactive;

    public static async Task<T> RunAsync<T>(Func<IRunObserver, Task<T>> work)
    {
        if (!IsInteractive) return await work(NullRunObserver.Instance);
        T result = default!;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
            .StartAsync(async ctx => result = await work(new SpectreObserver(ctx)));
        return result;
    }

    /// <summary>One line per step; steps may run at the same time (Engine:ConcurrentStages), so each is found by name.</summary>
    private sealed class SpectreObserver(ProgressContext context) : IRunObserver
    {
        private readonly Dictionary<string, ProgressTask> _running = new(StringComparer.Ordinal);
        private readonly Lock _lock = new();

        public void StepStarted(string step, int index, int count)
        {
            var label = count > 0 ? $"[{index}/{count}] {step}" : step;
            lock (_lock) _running[step] = context.AddTask(Markup.Escape(label), maxValue: 1).IsIndeterminate();
        }

        public void StepFinished(string step, long? rows, TimeSpan elapsed)
        {
            lock (_lock)
            {
                if (!_running.Remove(step, out var task)) return;
                // The description is already escaped markup; only the appended text needs escaping.
                if (rows is not null) task.Description += Markup.Escape($" — {rows:N0} rows");
                task.IsIndeterminate = false;
                task.Value = 1;
                task.StopTask();
            }
        }
    }
}
