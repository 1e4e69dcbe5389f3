using System.Diagnostics;

namespace SparkReco.EndToEnd.Tests;

/// <summary>Runs the real `sparkreco` executable as a child process: real exit codes, real stdout/stderr.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static async Task<Result> RunAsync(string workingDirectory, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "sparkreco.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CI"] = "true"; // plain log lines, no progress display
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}

/// <summary>A running `sparkreco` child process whose stderr is collected line by line, for signal and kill tests.</summary>
public sealed class RunningCli : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _errorLines = [];
    private readonly Task<string> _stdout;
    private readonly TaskCompletionSource _errorClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private RunningCli(Process process)
    {
        _process = process;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _errorClosed.TrySetResult();
                return;
            }
            lock (_errorLines) _errorLines.Add(e.Data);
        };
        _process.BeginErrorReadLine();
        _stdout = _process.StandardOutput.ReadToEndAsync();
    }

    public int Id => _process.Id;

    /// <summary>Starts the executable, optionally under another program (e.g. strace) given as its argument list.</summary>
    public static RunningCli Start(string workingDirectory, IReadOnlyList<string>? wrapper, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "sparkreco.dll");
        var program = wrapper is { Count: > 0 } ? wrapper[0] : "dotnet";
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (wrapper is { Count: > 0 })
        {
            foreach (var arg in wrapper.Skip(1)) start.ArgumentList.Add(arg);
            start.ArgumentList.Add("dotnet");
        }
        start.ArgumentList.Add(cli);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["CI"] = "true";
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        return new RunningCli(Process.Start(start)!);
    }

    public IReadOnlyList<string> ErrorLines
    {
        get
        {
            lock (_errorLines) return [.. _errorLines];
        }
    }

    /// <summary>Waits until a stderr line contains <paramref name="text"/>; false if the process ended first.</summary>
    public async Task<bool> WaitForErrorLineAsync(string text, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (ErrorLines.Any(l => l.Contains(text, StringComparison.Ordinal))) return true;
            if (_process.HasExited) return false;
            await Task.Delay(20);
        }
        return false;
    }

    /// <summary>Sends a real signal with kill(1): SIGINT, SIGTERM or SIGKILL.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-s", signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
    }

    public async Task<CliProcess.Result> WaitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
        await _errorClosed.Task.WaitAsync(cancel.Token);
        return new CliProcess.Result(_process.ExitCode, await _stdout, string.Join('\n', ErrorLines));
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}
