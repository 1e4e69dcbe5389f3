using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Input;

/// <summary>One contract column: its name in the user's files, the kinds of type it accepts, and whether it must be there.</summary>
internal sealed record ContractColumn(string Contract, string Actual, ColumnKind Kind, bool Required);

internal enum ColumnKind { Id, Text, Time, Number }

/// <summary>One input of a run to check: the contract's name for it, its setting, the configured path and its columns.</summary>
internal sealed record ContractTable(string Table, string Setting, string Path, IReadOnlyList<ContractColumn> Columns);

/// <summary>
/// The input contract as every inspector checks it, whatever the storage: which tables and columns, and the messages for
/// what is wrong (each names the table, the file or path, the column, the problem and the fix).
/// </summary>
internal static class InputContract
{
    /// <summary>The configured inputs with their contract columns; Input:Events must be set (exit 2).</summary>
    public static IReadOnlyList<ContractTable> Tables(InputSettings settings)
    {
        if (settings.Events is null)
            throw new ConfigurationException("setting 'Input:Events' is not set; give the events Parquet path in the config file, as SPARKRECO__Input__Events, or with --events.");
        var c = settings.Columns;
        var tables = new List<ContractTable>
        {
            new("events", "Input:Events", settings.Events, [
                new(Contract: "user_id", c.UserId, ColumnKind.Id, true),
                new("item_id", c.ItemId, ColumnKind.Id, true),
                new("event_type", c.EventType, ColumnKind.Text, true),
                new("event_time", c.EventTime, ColumnKind.Time, true),
                new("weight", c.Weight, ColumnKind.Number, false),
            ]),
        };
        if (settings.Items is not null)
            tables.Add(new("items", "Input:Items", settings.Items, [
                new("item_id", c.ItemId, ColumnKind.Id, true),
                new("category", c.Category, ColumnKind.Text, true),
                new("creator_id", c.CreatorId, ColumnKind.Id, false),
            ]));
        if (settings.Follows is not null)
            tables.Add(new("follows", "Input:Follows", settings.Follows, [
                new("follower_id", c.FollowerId, ColumnKind.Id, true),
                new("followee_id", c.FolloweeId, ColumnKind.Id, true),
            ]));
        return tables;
    }

    /// <summary>All problems together, the first 20 listed: exit 3.</summary>
    public static void ThrowIfAny(List<string> problems)
    {
        if (problems.Count == 0) return;
        const int Shown = 20;
        var lines = problems.Take(Shown).ToList();
        if (problems.Count > Shown) lines.Add($"... and {problems.Count - Shown} more problems of the same kinds.");
        throw new InputDataException("Input data does not match the contract:" + Environment.NewLine + string.Join(Environment.NewLine, lines.Select(p => "  - " + p)), problems);
    }

    /// <summary>
    /// Checks one file's (or one data set's) columns against the contract: missing required columns (with a hint when
    /// only the case differs) and wrong types (with the cast to use). Returns the column names present, partition keys included.
    /// </summary>
    public static HashSet<string> CheckColumns<TField>(string table, string shown, IReadOnlyList<TField> fields, Func<TField, string> name,
        Func<ColumnKind, TField, bool> accepts, Func<TField, string> describe, IReadOnlyList<ContractColumn> columns, List<string> problems, IReadOnlySet<string> partitionKeys)
    {
        var byName = fields.GroupBy(name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var present = new HashSet<string>(byName.Keys, StringComparer.Ordinal);
        // With Hive partitioning the folder's value replaces the file's column (every event became a "like").
        foreach (var key in partitionKeys.Where(byName.ContainsKey).Order(StringComparer.Ordinal))
            problems.Add($"{table}: '{shown}' lies in a Hive partition folder '{key}=…' and also has a column '{key}'; the folder's value would replace the file's. " +
                "Rename the partition folder or the column so they differ.");
        present.UnionWith(partitionKeys);
        foreach (var column in columns)
        {
            if (!byName.TryGetValue(column.Actual, out var field))
            {
                if (partitionKeys.Contains(column.Actual)) continue;
                if (!column.Required) continue;
                var mapped = column.Actual == column.Contract ? "" : $" (mapped from '{column.Contract}')";
                var caseHint = byName.Keys.FirstOrDefault(k => string.Equals(k, column.Actual, StringComparison.OrdinalIgnoreCase));
                var fix = caseHint is not null
                    ? $"the file has '{caseHint}': names are case-sensitive, set Input:Columns:{Pascal(column.Contract)} to \"{caseHint}\""
                    : $"add the column, or map it with Input:Columns:{Pascal(column.Contract)}";
                problems.Add($"{table}: '{shown}' has no column '{column.Actual}'{mapped}; {fix}. Columns present: {string.Join(", ", byName.Keys)}.");
                continue;
            }
            if (!accepts(column.Kind, field))
                problems.Add($"{table}: '{shown}' column '{column.Actual}' has type {describe(field)}; expected {Expected(column.Kind)}. Cast it when exporting (e.g. CAST({column.Actual} AS {SqlType(column.Kind)})).");
        }
        return present;
    }

    /// <summary>The engine reads ids as strings: "1" in one part file and 1 in another would become one user or item.</summary>
    public static string MixedIdTypes(string table, string column, string stringFile, string integerFile) =>
        $"{table}: column '{column}' is a string in '{stringFile}' but an integer in '{integerFile}'; ids such as \"1\" and 1 would be merged silently. " +
        $"Write every part file with the same type (e.g. CAST({column} AS VARCHAR) in the export).";

    public static string EmptyEvents(string path) =>
        $"events: '{path}' holds 0 rows; there is nothing to compute. Check that the export that writes it succeeded.";

    private static string Expected(ColumnKind kind) => kind switch
    {
        ColumnKind.Id => "a string or integer id",
        ColumnKind.Text => "a string",
        ColumnKind.Time => "a timestamp (Parquet TIMESTAMP, UTC)",
        _ => "a number (double preferred)",
    };

    private static string SqlType(ColumnKind kind) => kind switch
    {
        ColumnKind.Id or ColumnKind.Text => "VARCHAR",
        ColumnKind.Time => "TIMESTAMP",
        _ => "DOUBLE",
    };

    private static string Pascal(string contract) => string.Concat(contract.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}
