namespace SparkReco.Jobs.Running;

/// <summary>Hears about a run's progress: the CLI draws a progress display on a terminal and plain log lines elsewhere.</summary>
public interface IRunObserver
{
    void StepStarted(string step, int index, int count);
    void StepFinished(string step, long? rows, TimeSpan elapsed);
}

public sealed class NullRunObserver : IRunObserver
{
    public static readonly NullRunObserver Instance = new();
    public void StepStarted(string step, int index, int count) { }
    public void StepFinished(string step, long? rows, TimeSpan elapsed) { }
}
