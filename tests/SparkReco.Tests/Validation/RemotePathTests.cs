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
        var error = await Assert.ThrowsAsync<ConfigurationException>(() => InputInspectors.For(settings).InspectAsync(settings.Input, CancellationToken.None));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains($"'{setting}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("Spark engine", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not exist", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The runner checks inputs through the inspector it is given, so another storage can plug in without touching it.</summary>
public sealed class InputInspectorSeamTests
{
    private sealed class RefusingInspector : IInputInspector
    {
        public int Calls { get; private set; }

        public Task<InputCatalog> InspectAsync(InputSettings settings, CancellationToken cancellationToken)
        {
            Calls++;
            throw new InputDataException($"inspector for tests: refused '{settings.Events}'");
        }
    }

    [Fact]
    public async Task The_runner_inspects_inputs_through_the_given_inspector_before_opening_an_engine()
    {
        var settings = JobSettings.Read(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Input:Events"] = "lake/events" }).Build());
        var inspector = new RefusingInspector();
        var engines = 0;
        var runner = new SparkReco.Jobs.Running.JobRunner(settings, (_, _) => { engines++; throw new InvalidOperationException("no engine in this test"); },
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, inputs: inspector);
        var error = await Assert.ThrowsAsync<InputDataException>(() => runner.RunWithoutPublishingAsync(CancellationToken.None));
        Assert.Equal("inspector for tests: refused 'lake/events'", error.Message);
        Assert.Equal(1, inspector.Calls);
        Assert.Equal(0, engines);
        Assert.Same(LocalInputInspector.Instance, InputInspectors.For(settings));
    }
}
