using System.Diagnostics;

namespace SparkReco.EndToEnd.Tests;

/// <summary>Makes a folder unwritable for the test's duration, also for root (who ignores permission bits).</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ReadOnly : IDisposable
{
    private readonly string _path;
    private readonly bool _immutable;

    private ReadOnly(string path, bool immutable)
    {
        _path = path;
        _immutable = immutable;
    }

    public static ReadOnly Folder(string path)
    {
        // Root bypasses mode bits, so as root the folder is made immutable (chattr +i) instead.
        if (Environment.UserName == "root" && Run("chattr", "+i", path) == 0) return new ReadOnly(path, immutable: true);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        return new ReadOnly(path, immutable: false);
    }

    public void Dispose()
    {
        if (_immutable) Run("chattr", "-i", _path);
        else File.SetUnixFileMode(_path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    internal static int Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        try
        {
            using var process = Process.Start(start)!;
            process.WaitForExit();
            return process.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1; // program not installed
        }
    }
}

/// <summary>A tiny tmpfs mounted over a folder: a real "No space left on device". Needs root; null otherwise.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TinyDisk : IDisposable
{
    private readonly string _path;

    private TinyDisk(string path) => _path = path;

    public static TinyDisk? TryMount(string path, string size) =>
        ReadOnly.Run("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", path) == 0 ? new TinyDisk(path) : null;

    public void Dispose() => ReadOnly.Run("umount", _path);
}
