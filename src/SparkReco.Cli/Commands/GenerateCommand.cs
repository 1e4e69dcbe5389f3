using System.CommandLine;
using System.Diagnostics;
using SparkReco.Core.Errors;
using SparkReco.Generator;

namespace SparkReco.Cli.Commands;

public static class GenerateCommand
{
    public static Command Create()
    {
        var defaults = new GeneratorOptions("sample-data");
        var output = new Option<string>("--output", "-o") { Description = "Folder to write events/, items/, follows/ and ground_truth/ into.", DefaultValueFactory = _ => defaults.OutputDirectory };
        var events = new Option<long>("--events") { Description = "Number of events.", DefaultValueFactory = _ => defaults.Events };
        var users = new Option<int>("--users") { Description = "Number of users.", DefaultValueFactory = _ => defaults.Users };
        var items = new Option<int>("--items") { Description = "Number of items.", DefaultValueFactory = _ => defaults.Items };
        var communities = new Option<int>("--communities") { Description = "Planted user communities.", DefaultValueFactory = _ => defaults.Communities };
        var categories = new Option<int>("--categories") { Description = "Item categories (topics).", DefaultValueFactory = _ => defaults.Categories };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same options and seed give identical files.", DefaultValueFactory = _ => defaults.Seed };
        var days = new Option<int>("--days") { Description = "Days of history ending at --end.", DefaultValueFactory = _ => defaults.Days };
        var end = new Option<DateTime?>("--end") { Description = "Last instant of the history, UTC (default 2026-11-01T00:00:00Z)." };
        var bots = new Option<int>("--bots") { Description = "Bots / power users with far more events than anyone else.", DefaultValueFactory = _ => defaults.Bots };

        var command = new Command("generate", "Make seeded synthetic engagement data (events, items, follows, ground truth) as Parquet.");
        foreach (var option in new Option[] { output, events, users, items, communities, categories, seed, days, end, bots })
            command.Options.Add(option);
        command.SetAction(async (parse, ct) =>
        {
            var options = defaults with
            {
                OutputDirectory = parse.GetValue(output)!,
                Events = parse.GetValue(events),
                Users = parse.GetValue(users),
                Items = parse.GetValue(items),
                Communities = parse.GetValue(communities),
                Categories = parse.GetValue(categories),
                Seed = parse.GetValue(seed),
                Days = parse.GetValue(days),
                End = parse.GetValue(end) is { } e ? DateTime.SpecifyKind(e.ToUniversalTime(), DateTimeKind.Utc) : null,
                Bots = parse.GetValue(bots),
            };
            var watch = Stopwatch.StartNew();
            var lastReport = TimeSpan.Zero;
            var progress = new Progress<long>(written =>
            {
                if (watch.Elapsed - lastReport < TimeSpan.FromSeconds(5)) return;
                lastReport = watch.Elapsed;
                Console.Error.WriteLine($"generate: {written:N0} / {options.Events:N0} events");
            });
            var result = await SyntheticGenerator.GenerateAsync(options, progress, ct);
            Console.Out.WriteLine(
                $"Generated {result.Events:N0} events, {result.Users:N0} users, {result.Items:N0} items, {result.Follows:N0} follows " +
                $"into {Path.GetFullPath(options.OutputDirectory)} in {watch.Elapsed.TotalSeconds:F1} s ({result.Events / Math.Max(watch.Elapsed.TotalSeconds, 1e-3):N0} events/s).");
            return ExitCodes.Success;
        });
        return command;
    }
}
