namespace SparkReco.Core.Errors;

/// <summary>Process exit codes (DESIGN §7). Schedulers branch on these, so they never change meaning.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int InputData = 3;
    public const int Engine = 4;
    public const int Publish = 5;

    /// <summary>Stopped by SIGINT (Ctrl+C): 128 + 2, as shells report it.</summary>
    public const int Cancelled = 130;

    /// <summary>Stopped by SIGTERM (how schedulers stop a job): 128 + 15.</summary>
    public const int Terminated = 143;
}

/// <summary>
/// The one base type for every error SparkReco reports on purpose. Each subtype maps to an exit code;
/// anything else reaching <c>Main</c> is a bug and exits with <see cref="ExitCodes.Internal"/>.
/// </summary>
public abstract class SparkRecoException : Exception
{
    protected SparkRecoException(string message, Exception? inner = null) : base(message, inner) { }

    public abstract int ExitCode { get; }

    /// <summary>The stage that was running, added at the stage boundary.</summary>
    public string? Stage { get; set; }
}

/// <summary>A setting is missing, malformed or out of range, or the command line is wrong.</summary>
public sealed class ConfigurationException : SparkRecoException
{
    public ConfigurationException(string message, Exception? inner = null) : base(message, inner) { }
    public override int ExitCode => ExitCodes.Usage;
}

/// <summary>The input data breaks the contract: missing files or columns, wrong types, bad rows.</summary>
public sealed class InputDataException : SparkRecoException
{
    public InputDataException(string message, IReadOnlyList<string>? problems = null) : base(message)
    {
        Problems = problems ?? [message];
    }

    /// <summary>Every problem found, one line each, so a user fixes them all in one go.</summary>
    public IReadOnlyList<string> Problems { get; }

    public override int ExitCode => ExitCodes.InputData;
}

/// <summary>The engine failed to run a statement. Transient errors may be retried by the caller.</summary>
public sealed class EngineException : SparkRecoException
{
    public EngineException(string message, Exception? inner = null, bool transient = false, string? errorClass = null, string? sqlState = null)
        : base(message, inner)
    {
        IsTransient = transient;
        ErrorClass = errorClass;
        SqlState = sqlState;
    }

    public bool IsTransient { get; }
    public string? ErrorClass { get; }
    public string? SqlState { get; }
    public override int ExitCode => ExitCodes.Engine;
}

/// <summary>Outputs could not be staged or published, or another run holds the output lock.</summary>
public sealed class PublishException : SparkRecoException
{
    public PublishException(string message, Exception? inner = null) : base(message, inner) { }
    public override int ExitCode => ExitCodes.Publish;
}
