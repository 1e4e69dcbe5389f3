using System.CommandLine;
using SparkReco.Core.Configuration;
using SparkReco.Core.Errors;

namespace SparkReco.Cli.Commands;

public static class SettingsCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print a Markdown table (the README's settings table is made with this)." };
        var command = new Command("settings", "List every setting with its default and meaning.");
        command.Options.Add(markdown);
        command.SetAction(parse =>
        {
            var all = JobSettings.Describe();
            if (parse.GetValue(markdown))
            {
                Console.Out.WriteLine("| setting | default | meaning |");
                Console.Out.WriteLine("|---|---|---|");
                foreach (var s in all)
                    Console.Out.WriteLine($"| `{s.Key}` | `{s.Default}` | {s.Description}{(s.Allowed is null || s.Allowed.Count == 2 && s.Allowed.Contains("true") ? "" : $" One of: {string.Join(", ", s.Allowed)}.")} |");
            }
            else
            {
                foreach (var s in all)
                    Console.Out.WriteLine($"{s.Key} = {s.Default}\n    {s.Description}");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
