namespace SparkReco.Tests.Support;

/// <summary>Tests that run the CLI in-process share the console, so they run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection
{
    public const string Name = "cli";
}
