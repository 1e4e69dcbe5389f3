using System.CommandLine;

namespace SparkReco.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create() => new("generate", "Make seeded synthetic engagement data (events, items, follows, ground truth) as Parquet.");
}
