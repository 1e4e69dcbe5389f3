using System.CommandLine;
using SparkReco.Cli.Commands;
using SparkReco.Core.Errors;

namespace SparkReco.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            // First Ctrl+C stops the run cleanly (nothing published); a second one kills the process.
            e.Cancel = !cancel.IsCancellationRequested;
            cancel.Cancel();
        };
        return await RunAsync(args, cancel.Token);
    }

    public static RootCommand CreateRoot() => new("SparkReco: recommendation, similarity, segment and propensity tables from engagement events.")
    {
        RunCommand.Create(),
        PlanCommand.Create(),
        ValidateCommand.Create(),
        GenerateCommand.Create(),
        ImportCommand.Create(),
        SettingsCommand.Create(),
        EvaluateCommand.Create(),
    };

    /// <summary>Parses and runs a command line, mapping every failure to its exit code (DESIGN §7).</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) await Console.Error.WriteLineAsync("error: " + error.Message);
            await Console.Error.WriteLineAsync("Run 'sparkreco --help' or 'sparkreco <command> --help' for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, cancellationToken);
        }
        catch (SparkRecoException e)
        {
            var where = e.Stage is null ? "" : $" (stage {e.Stage})";
            await Console.Error.WriteLineAsync($"error{where}: {e.Message}");
            return e.ExitCode;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("cancelled: nothing was published; the previous outputs are unchanged.");
            return 130;
        }
    }
}
