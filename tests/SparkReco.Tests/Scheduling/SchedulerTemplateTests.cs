using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using SparkReco.Cli;
using SparkReco.Core.Errors;
using SparkReco.Tests.Sql;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Scheduling;

/// <summary>
/// The scheduler templates (jobs/airflow, jobs/adf) and the retry wrapper against the real CLI: the commands they build
/// must parse with the CLI's own options, and what they retry must be exactly the transient exit codes.
/// </summary>
public sealed partial class SchedulerTemplateTests
{
    private static readonly string Root = PlanFixture.RepositoryRoot;
    private const string AsOf = "2026-11-29T03:00:00Z";

    private static void AssertParses(IReadOnlyList<string> arguments)
    {
        var parse = Program.CreateRoot().Parse(arguments.ToArray());
        Assert.True(parse.Errors.Count == 0,
            $"'{string.Join(' ', arguments)}' does not parse: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
        Assert.Equal("run", arguments[0]);
    }

    [Fact]
    public void Airflow_dag_builds_a_command_the_cli_accepts_and_retries_only_transient_exits()
    {
        var dag = File.ReadAllText(Path.Combine(Root, "jobs", "airflow", "sparkreco_nightly.py"));
        var template = CommandTemplate().Match(dag);
        Assert.True(template.Success, "COMMAND_TEMPLATE not found in the DAG");
        var arguments = QuotedString().Matches(template.Groups[1].Value)
            .Select(m => m.Groups[1].Value.Replace("{config}", "conf/local.json", StringComparison.Ordinal).Replace("{as_of}", AsOf, StringComparison.Ordinal))
            .ToList();
        AssertParses(arguments);
        Assert.Contains(AsOf, arguments);
        AssertEvaluationLeftOut(arguments);

        var notRetryable = NotRetryable().Match(dag);
        Assert.True(notRetryable.Success, "NOT_RETRYABLE not found in the DAG");
        var codes = Regex.Matches(notRetryable.Groups[1].Value, @"(\d+)\s*:").Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).Order();
        Assert.Equal([ExitCodes.Internal, ExitCodes.Usage, ExitCodes.InputData], codes);

        // The operator idioms the issue asks for: output in the task log, a timeout, a kill that stops the job, an outlet.
        Assert.Contains("SubprocessHook", dag, StringComparison.Ordinal);
        Assert.Contains("execution_timeout=", dag, StringComparison.Ordinal);
        Assert.Contains("def on_kill", dag, StringComparison.Ordinal);
        Assert.Contains("send_sigterm", dag, StringComparison.Ordinal);
        Assert.Contains("outlets=[Dataset(", dag, StringComparison.Ordinal);
    }

    [Fact]
    public void Adf_pipeline_and_trigger_build_a_command_the_cli_accepts_without_blind_retries()
    {
        using var pipeline = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "jobs", "adf", "sparkreco-pipeline.json")));
        using var trigger = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "jobs", "adf", "sparkreco-trigger.json")));
        var properties = pipeline.RootElement.GetProperty("properties");
        var parameters = properties.GetProperty("parameters");
        // asOf has no default: a literal "@trigger()…" default would be passed as text; the trigger supplies it.
        Assert.False(parameters.GetProperty("asOf").TryGetProperty("defaultValue", out _));
        var activity = properties.GetProperty("activities")[0];
        Assert.Equal(0, activity.GetProperty("policy").GetProperty("retry").GetInt32());

        var expression = activity.GetProperty("typeProperties").GetProperty("command").GetProperty("value").GetString()!;
        var values = new Dictionary<string, string>
        {
            ["configPath"] = parameters.GetProperty("configPath").GetProperty("defaultValue").GetString()!,
            ["asOf"] = AsOf,
        };
        var tokens = EvaluateConcat(expression, values).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("./bin/sparkreco-retry", tokens[0]);
        var cli = Array.IndexOf(tokens, "./bin/sparkreco");
        Assert.True(cli > 0 && tokens[cli - 1] == "--", $"the wrapper must run ./bin/sparkreco after '--': {string.Join(' ', tokens)}");
        AssertParses(tokens[(cli + 1)..]);
        AssertEvaluationLeftOut(tokens[(cli + 1)..]);

        var triggered = trigger.RootElement.GetProperty("properties").GetProperty("pipeline");
        Assert.Equal(pipeline.RootElement.GetProperty("name").GetString(), triggered.GetProperty("pipelineReference").GetProperty("referenceName").GetString());
        var asOf = triggered.GetProperty("parameters").GetProperty("asOf").GetString()!;
        Assert.StartsWith("@", asOf, StringComparison.Ordinal);
        Assert.Contains("trigger().outputs.windowEndTime", asOf, StringComparison.Ordinal);
        Assert.Contains("yyyy-MM-ddTHH:mm:ssZ", asOf, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 4, 4, 0 }, 3, 0)]                 // transient twice, then success
    [InlineData(new[] { 5, 5, 5 }, 3, 5)]                 // transient every time: gives up after 3
    [InlineData(new[] { 3 }, 1, 3)]                       // input data: not retried
    [InlineData(new[] { 2 }, 1, 2)]                       // configuration: not retried
    [InlineData(new[] { 1 }, 1, 1)]                       // internal error: not retried
    [InlineData(new[] { 143 }, 1, 143)]                   // stopped by the scheduler: stays stopped
    public async Task Retry_wrapper_retries_exactly_the_transient_exit_codes(int[] exits, int expectedRuns, int expectedExit)
    {
        using var dir = new TempDirectory();
        var counter = dir.Combine("runs");
        var fake = dir.Combine("fake.sh");
        // The fake job exits with exits[n] on its n-th run.
        await File.WriteAllTextAsync(fake,
            $"#!/usr/bin/env bash\nn=$(cat '{counter}' 2>/dev/null || echo 0); echo $((n + 1)) > '{counter}'\ncodes=({string.Join(' ', exits)})\nexit ${{codes[$n]}}\n");
        var start = new ProcessStartInfo("bash") { RedirectStandardError = true };
        foreach (var argument in new[] { Path.Combine(Root, "scripts", "sparkreco-retry.sh"), "--attempts", "3", "--delay", "0", "--", "bash", fake })
            start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(expectedExit == process.ExitCode, $"exit {process.ExitCode}: {stderr}");
        Assert.Equal(expectedRuns.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(counter)).Trim());
    }

    /// <summary>Evaluates ADF's <c>@concat('literal', pipeline().parameters.name, …)</c>, the only form the template uses.</summary>
    private static string EvaluateConcat(string expression, Dictionary<string, string> parameters)
    {
        var body = ConcatCall().Match(expression);
        Assert.True(body.Success, $"not an @concat(...) expression: {expression}");
        var result = new System.Text.StringBuilder();
        foreach (Match part in ConcatArgument().Matches(body.Groups[1].Value))
            result.Append(part.Groups["literal"].Success ? part.Groups["literal"].Value.Replace("''", "'", StringComparison.Ordinal) : parameters[part.Groups["parameter"].Value]);
        return result.ToString();
    }

    /// <summary>The nightly command turns the offline evaluation off (it retrains everything), whatever the configuration file says.</summary>
    private static void AssertEvaluationLeftOut(IReadOnlyList<string> arguments)
    {
        var set = arguments.Select((a, i) => (a, i)).Where(x => x.a == "--set").Select(x => arguments[x.i + 1]).ToList();
        Assert.Contains("Evaluation:Mode=none", set);
    }

    [GeneratedRegex(@"COMMAND_TEMPLATE\s*=\s*\[(.*?)\]", RegexOptions.Singleline)]
    private static partial Regex CommandTemplate();

    [GeneratedRegex("\"([^\"]*)\"")]
    private static partial Regex QuotedString();

    [GeneratedRegex(@"NOT_RETRYABLE\s*=\s*\{(.*?)\}", RegexOptions.Singleline)]
    private static partial Regex NotRetryable();

    [GeneratedRegex(@"^@concat\((.*)\)$", RegexOptions.Singleline)]
    private static partial Regex ConcatCall();

    [GeneratedRegex(@"'(?<literal>(?:[^']|'')*)'|pipeline\(\)\.parameters\.(?<parameter>\w+)")]
    private static partial Regex ConcatArgument();
}
