using System.CommandLine;
using SparkReco.Core.Errors;
using SparkReco.Input.Import;

namespace SparkReco.Cli.Commands;

public static class ImportCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input", "-i") { Description = "CSV/TSV file to convert, plain or gzip-compressed (detected from its first bytes).", Required = true };
        var output = new Option<string>("--output", "-o") { Description = "Folder to write part-00000.parquet into.", Required = true };
        var kind = new Option<string>("--kind") { Description = "What the file holds: events, items or follows.", DefaultValueFactory = _ => "events" };
        kind.AcceptOnlyFromAmong("events", "items", "follows");
        var delimiter = new Option<string?>("--delimiter") { Description = "Field delimiter: a character, or 'tab'. Without it the delimiter is detected from the first lines (',', tab, ';' or '|')." };
        var noHeader = new Option<bool>("--no-header") { Description = "The file has no header line; name columns by 1-based position." };
        Option<string?> Column(string name, string holds) => new(name) { Description = $"Column (header name, or 1-based position with --no-header) holding {holds}." };
        var user = Column("--user-column", "the user id (events)");
        var item = Column("--item-column", "the item id (events, items)");
        var type = Column("--event-type-column", "the event type (events)");
        var time = Column("--time-column", "the event time (events)");
        var weight = Column("--weight-column", "an optional numeric weight such as a rating (events)");
        var category = Column("--category-column", "the category (items)");
        var creator = Column("--creator-column", "the optional creator id (items)");
        var follower = Column("--follower-column", "the follower id (follows)");
        var followee = Column("--followee-column", "the followed id (follows)");
        var timeFormat = new Option<string>("--time-format") { Description = "auto, epoch-seconds, epoch-millis or iso.", DefaultValueFactory = _ => "auto" };
        timeFormat.AcceptOnlyFromAmong("auto", "epoch-seconds", "epoch-millis", "iso");
        var eventType = new Option<string?>("--constant-event-type") { Description = "Event type for every row when the file has none (e.g. rating, play)." };
        var constantTime = new Option<DateTime?>("--constant-time") { Description = "Event time (UTC) for every row when the file has none." };

        var command = new Command("import", "Convert a CSV/TSV file to the Parquet input contract (e.g. MovieLens u.data: --delimiter tab --no-header --user-column 1 --item-column 2 --weight-column 3 --time-column 4 --time-format epoch-seconds --constant-event-type rating).");
        foreach (var option in new Option[] { input, output, kind, delimiter, noHeader, user, item, type, time, weight, category, creator, follower, followee, timeFormat, eventType, constantTime })
            command.Options.Add(option);
        command.SetAction(async (parse, ct) =>
        {
            var d = parse.GetValue(delimiter);
            char? separator = d switch
            {
                null => null,
                "tab" or "\\t" or "\t" => '\t',
                { Length: 1 } => d[0],
                _ => throw new ConfigurationException($"--delimiter '{d}' must be one character or 'tab'."),
            };
            var options = new ImportOptions(
                parse.GetValue(input)!, parse.GetValue(output)!, separator, !parse.GetValue(noHeader),
                parse.GetValue(user), parse.GetValue(item), parse.GetValue(type), parse.GetValue(time), parse.GetValue(weight),
                parse.GetValue(timeFormat)!, parse.GetValue(eventType),
                parse.GetValue(constantTime) is { } t ? DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc) : null,
                parse.GetValue(kind)!,
                parse.GetValue(category), parse.GetValue(creator), parse.GetValue(follower), parse.GetValue(followee));
            var result = await CsvImporter.ImportAsync(options, ct);
            var shown = result.Delimiter == '\t' ? "tab" : $"'{result.Delimiter}'";
            Console.Out.WriteLine($"Read {(result.Gzip ? "gzip-compressed " : "")}{Path.GetFileName(options.InputPath)} with delimiter {shown}" +
                (result.DelimiterDetected ? " (detected; pass --delimiter to override)" : ""));
            Console.Out.WriteLine($"Imported {result.Rows:N0} rows into {result.OutputFile}" + (result.SkippedRows > 0 ? $" ({result.SkippedRows:N0} rows skipped)" : ""));
            return ExitCodes.Success;
        });
        return command;
    }
}
