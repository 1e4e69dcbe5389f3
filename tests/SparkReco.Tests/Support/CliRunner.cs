using SparkReco.Cli;

namespace SparkReco.Tests.Support;

/// <summary>
/// Runs the CLI in-process and captures what it prints. Console is process-wide, so tests that use
/// it share one collection (no parallel runs of this class's users).
/// </summary>
public static class CliRunner
{
    private static readonly SemaphoreSlim Gate = new(1, 1);

    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        await Gate.WaitAsync();
        var (oldOut, oldError) = (Console.Out, Console.Error);
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        try
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
            var code = await Program.RunAsync(args, CancellationToken.None);
            return new Result(code, stdout.ToString(), stderr.ToString());
        }
        finally
        {
            Console.SetOut(oldOut);
            Console.SetError(oldError);
            Gate.Release();
        }
    }
}
