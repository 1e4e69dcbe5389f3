using System.Diagnostics;
using System.Globalization;
using SparkReco.Core.Errors;

namespace SparkReco.Publishing;

/// <summary>
/// One run at a time per output folder. The lock is an open file handle with <see cref="FileShare.None"/>
/// (an advisory OS lock on Unix): the OS releases it when the process dies, so a killed run never
/// leaves a lock that blocks the next one. A side file says who holds it, for the error message.
/// </summary>
public sealed class OutputLock : IDisposable
{
    public const string LockFileName = ".sparkreco.lock";
    public const string HolderFileName = ".sparkreco.lock.holder";

    private readonly FileStream _handle;
    private readonly string _holderPath;

    private OutputLock(FileStream handle, string holderPath)
    {
        _handle = handle;
        _holderPath = holderPath;
    }

    /// <summary>True when the previous holder died without releasing the lock (its holder file was left behind).</summary>
    public bool RecoveredStaleLock { get; private init; }

    public static OutputLock Acquire(string outputDirectory, string runId)
    {
        try
        {
            Directory.CreateDirectory(outputDirectory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new PublishException($"Cannot create output folder '{outputDirectory}': {e.Message}. Check Output:Path and its permissions.", e);
        }

        var lockPath = Path.Combine(outputDirectory, LockFileName);
        var holderPath = Path.Combine(outputDirectory, HolderFileName);
        FileStream handle;
        try
        {
            handle = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            var holder = File.Exists(holderPath) ? SafeRead(holderPath) : "another process";
            throw new PublishException(
                $"Output folder '{outputDirectory}' is locked by a run that is still going ({holder}). " +
                "Wait for it to finish, or give this run a different Output:Path. Nothing was written.", e);
        }

        var stale = File.Exists(holderPath);
        var info = string.Create(CultureInfo.InvariantCulture,
            $"run {runId}, pid {Environment.ProcessId} on {Environment.MachineName}, started {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}");
        File.WriteAllText(holderPath, info);
        return new OutputLock(handle, holderPath) { RecoveredStaleLock = stale };
    }

    public void Dispose()
    {
        // Remove the holder note first: once the handle is closed, another run may write its own.
        try
        {
            File.Delete(_holderPath);
        }
        catch (IOException)
        {
            // The note is informational; a leftover one only makes the next run log "stale lock recovered".
        }
        _handle.Dispose();
    }

    private static string SafeRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return "another process";
        }
    }
}
