using DuckDB.NET.Data;
using DuckDB.NET.Native;
using SparkReco.Core.Errors;

namespace SparkReco.Engine.DuckDb;

/// <summary>
/// Maps DuckDB's errors to the one engine exception every engine raises: DuckDB's error type is the error class, and the
/// types that have a standard SQLSTATE get it (the codes Spark reports for the same conditions), so callers branch on
/// the same fields whichever engine ran.
/// </summary>
public static partial class DuckDbErrors
{
    public static EngineException ToEngineException(DuckDBException e, string message)
    {
        ArgumentNullException.ThrowIfNull(e);
        return ToEngineException(e, e.ErrorType, message);
    }

    /// <summary>The same for an error of a query run through DuckDB's C API directly (<see cref="QueryFailedException"/>).</summary>
    public static EngineException ToEngineException(Exception e, DuckDBErrorType errorType, string message)
    {
        // Errors raised while a statement is prepared come with the type Invalid; DuckDB's message names the real one
        // ("Catalog Error: …"), in the same words as its error types.
        var errorClass = errorType.ToString();
        if (errorClass == "Invalid" && ClassFromMessage(e.Message) is { } named) errorClass = named;
        return new EngineException(message, e, IsTransient(errorClass), errorClass, SqlState(errorClass));
    }

    /// <summary>"Out of Memory Error: …" → OutOfMemory, "INTERRUPT Error: …" → Interrupt, as the error type enum spells them.</summary>
    private static string? ClassFromMessage(string message)
    {
        var match = Prefix().Match(message);
        if (!match.Success) return null;
        var words = match.Groups[1].Value.Split([' ', '-'], StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..].ToLowerInvariant()));
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^([A-Za-z][A-Za-z -]*?) Error: ")]
    private static partial System.Text.RegularExpressions.Regex Prefix();

    /// <summary>An interrupted statement or a failed network read may succeed when run again; everything else fails the same way again.</summary>
    public static bool IsTransient(string errorClass) => errorClass is "Interrupt" or "Http";

    public static string? SqlState(string errorClass) => errorClass switch
    {
        "Parser" or "Syntax" => "42601",
        "Catalog" => "42P01",
        "Permission" => "42501",
        "DivideByZero" => "22012",
        "OutOfRange" => "22003",
        "Conversion" => "22018",
        "Constraint" => "23000",
        "OutOfMemory" => "53200",
        "Interrupt" => "57014",
        "IO" or "Io" => "58030",
        _ => null,
    };
}

/// <summary>A query run through DuckDB's C API failed: DuckDB's message and error type (DuckDBException has no public constructor for them).</summary>
public sealed class QueryFailedException(string message, DuckDBErrorType errorType) : Exception(message)
{
    public DuckDBErrorType ErrorType { get; } = errorType;
}
