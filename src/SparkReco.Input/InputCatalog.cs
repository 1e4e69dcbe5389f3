using SparkReco.Core.Configuration;
using SparkReco.Core.Engine;
using SparkReco.Core.Sql;

namespace SparkReco.Input;

/// <summary>A checked input table: where it is, how many rows the footers promise, and which optional columns it has.</summary>
/// <param name="LakeFiles">
/// For an input on a data lake (checked through the engine): every Parquet file the engine reads there, with size,
/// modification time and rows, as the engine reported them; the manifest and the input fingerprint come from these.
/// Null for local inputs, whose files this machine reads itself.
/// </param>
public sealed record InputTable(string Name, ParquetSource Source, IReadOnlyList<string> Files, long Rows, IReadOnlySet<string> Columns, long Bytes,
    IReadOnlyList<LakeFile>? LakeFiles = null);

/// <summary>The inputs of a run after their Parquet footers were checked against the contract.</summary>
public sealed record InputCatalog(InputTable Events, InputTable? Items, InputTable? Follows)
{
    public bool EventsHaveWeight(ColumnMapping columns) => Events.Columns.Contains(columns.Weight);
}

/// <summary>
/// Finds a run's input files and checks them against the contract before any engine work, so what is checked is what the
/// engine reads (the catalog lists the files). One implementation per kind of storage: <see cref="LocalInputInspector"/>
/// reads Parquet footers on this machine; <see cref="LakeInputInspector"/> asks the engine about data-lake paths.
/// </summary>
public interface IInputInspector
{
    Task<InputCatalog> InspectAsync(InputSettings settings, CancellationToken cancellationToken);
}

/// <summary>Chooses the input inspector for a run's settings.</summary>
public static class InputInspectors
{
    /// <summary>
    /// On the Spark engine, with an input on a data lake (a URL with a scheme other than file://) and a way to open the
    /// engine: <see cref="LakeInputInspector"/>, which asks the Spark server. Otherwise <see cref="LocalInputInspector"/>,
    /// which reads footers on this machine and refuses data-lake URLs naming the setting (exit 2).
    /// </summary>
    /// <param name="openEngine">Opens the run's engine for the check (a short session of its own); null where none may be opened (plan).</param>
    public static IInputInspector For(JobSettings settings, Func<CancellationToken, Task<IEngine>>? openEngine = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var input = settings.Input;
        var remote = new[] { input.Events, input.Items, input.Follows }.Any(LakePaths.IsRemote);
        return settings.Engine.Kind == "spark" && remote && openEngine is not null
            ? new LakeInputInspector(openEngine)
            : LocalInputInspector.Instance;
    }
}
