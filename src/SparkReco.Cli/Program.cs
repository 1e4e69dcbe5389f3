using System.CommandLine;
using System.Runtime.InteropServices;
using SparkReco.Cli.Commands;
using SparkReco.Core.Errors;

namespace SparkReco.Cli;

public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var cancel = new CancellationTokenSource();
        var exitCode = ExitCodes.Cancelled;
        void Stop(PosixSignalContext signal)
        {
            // The first SIGINT/SIGTERM stops the run cleanly (nothing published, temp folders removed);
            // a second one is left to the default action and kills the process.
            if (cancel.IsCancellationRequested) return;
            signal.Cancel = true;
            exitCode = signal.Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Cancelled;
            cancel.Cancel();
        }
        // This is the only handler: System.CommandLine's own one is switched off in RunAsync, because two
        // competing handlers made a signal crash the process instead of cancelling the run (issue 10, C1).
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        return await RunAsync(args, cancel.Token, () => exitCode);
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
        TuneCommand.Create(),
    };

    /// <summary>Parses and runs a command line, mapping every failure to its exit code (DESIGN §7).</summary>
    /// <param name="cancelledExitCode">Exit code when <paramref name="cancellationToken"/> stopped the run: 130 (SIGINT) or 143 (SIGTERM).</param>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken, Func<int>? cancelledExitCode = null)
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
            var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null };
            return await parse.InvokeAsync(invocation, cancellationToken);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // However the cancellation surfaced (OperationCanceledException, or the engine's "interrupted" error
            // mapped to an engine error), the run stopped because it was asked to: one line, no stack trace.
            var code = cancelledExitCode?.Invoke() ?? ExitCodes.Cancelled;
            var signal = code == ExitCodes.Terminated ? "SIGTERM" : "SIGINT";
            await Console.Error.WriteLineAsync(ConsoleLogging.ErrorLine($"cancelled ({signal}): nothing was published; the previous outputs are unchanged."));
            return code;
        }
        catch (SparkRecoException e)
        {
            var where = e.Stage is null ? "" : $" (stage {e.Stage})";
            await Console.Error.WriteLineAsync(ConsoleLogging.ErrorLine($"error{where}: {e.Message}"));
            return e.ExitCode;
        }
        catch (Exception e)
        {
            // Not an error reported on purpose: a bug. One line, like every other error (schedulers show the last line).
            await Console.Error.WriteLineAsync(ConsoleLogging.ErrorLine(InternalError(e)));
            return ExitCodes.Internal;
        }
    }

    /// <summary>The one line an unexpected exception gets: its type, where it was thrown and the first line of its message.</summary>
    public static string InternalError(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        var site = e.TargetSite is { DeclaringType: { } type } method ? $" in {type.FullName}.{method.Name}" : "";
        return $"internal error (a bug, please report it): {e.GetType().Name}{site}: {e.Message.Split('\n', 2)[0].Trim()}";
    }
}
