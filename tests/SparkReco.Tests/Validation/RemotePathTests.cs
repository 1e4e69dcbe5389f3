using Microsoft.Extensions.Configuration;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;
using SparkReco.Input;

namespace SparkReco.Tests.Validation;

/// <summary>A data-lake URL on the embedded engine is a configuration error that points to the Spark engine, not "does not exist".</summary>
public sealed class RemotePathTests
{
    [Theory]
    [InlineData("Input:Events", "s3://bucket/events/")]
    [InlineData("Input:Events", "abfss://lake@account.dfs.core.windows.net/events")]
    [InlineData("Input:Items", "hdfs://namenode:8020/items")]
    [InlineData("Input:Follows", "gs://bucket/follows.parquet")]
    public async Task A_remote_input_names_the_setting_and_the_spark_engine(string setting, string path)
    {
        var values = new Dictionary<string, string?> { ["Input:Events"] = "events.parquet", [setting] = path };
        var settings = JobSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => InputCatalog.OpenAsync(settings.Input, CancellationToken.None));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains($"'{setting}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("Spark engine", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", error.Message, StringComparison.Ordinal);
    }
}
