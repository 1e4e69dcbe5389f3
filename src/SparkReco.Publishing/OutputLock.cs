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
        outputDirectory = Path.GetFullPath(outputDirectory);
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
        catch (UnauthorizedAccessException e)
        {
            // A read-only folder (or a lock file owned by someone else): not a concurrent run.
            throw new PublishException(
                $"Cannot write to output folder '{outputDirectory}' (creating '{LockFileName}' was refused: {e.Message}). " +
                "Give the job write permission there, or set Output:Path to a writable folder. Nothing was written.", e);
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw DiskFull(outputDirectory, e);
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
        try
        {
            File.WriteAllText(holderPath, info);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            handle.Dispose();
            throw IsDiskFull(e) ? DiskFull(outputDirectory, e) : new PublishException(
                $"Cannot write '{HolderFileName}' in output folder '{outputDirectory}': {e.Message}. " +
                "Give the job write permission there, or set Output:Path to a writable folder. Nothing was written.", e);
        }
        return new OutputLock(handle, holderPath) { RecoveredStaleLock = stale };
    }

    /// <summary>ENOSPC (28) or EDQUOT (122) on Linux, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(Exception e) =>
        e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("quota exceeded", StringComparison.OrdinalIgnoreCase)
        || e.HResult is 28 or 122 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    private static PublishException DiskFull(string outputDirectory, Exception e) => new(
        $"The disk of output folder '{outputDirectory}' is full ({e.Message}). Free space there or set Output:Path to a larger disk; " +
        "the previous outputs are unchanged.", e);

    public void Dispose()
    {
        // Remove the holder note first: once the handle is closed, another run may write its own.
        try
        {
            File.Delete(_holderPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
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
