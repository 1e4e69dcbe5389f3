namespace SparkReco.Jobs.Stages;

/// <summary>
/// The table names one copy of the model uses. The nightly run uses <see cref="Main"/>; offline evaluation
/// renders the same stages with <see cref="Train"/>, so the train model is built by exactly the same SQL from
/// tables that never saw the test period.
/// </summary>
public sealed record TableScope(string Prefix)
{
    public static readonly TableScope Main = new("");

    public static readonly TableScope Train = new("eval_train_");

    /// <summary>The scoped name of a table, e.g. <c>affinity</c> → <c>eval_train_affinity</c>.</summary>
    public string this[string table] => Prefix + table;
}
