using System.CommandLine;

namespace SparkReco.Cli.Commands;

public static class ImportCommand
{
    public static Command Create() => new("import", "Convert CSV/TSV files to the Parquet input contract.");
}
