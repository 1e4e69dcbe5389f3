using SparkReco.Tests.Support;
using System.Globalization;
using System.Text;
using SparkReco.Core.Errors;
using SparkReco.Input.Import;

namespace SparkReco.Tests.Import;

public sealed class CsvImporterTests : IDisposable
{
    // The first lines of MovieLens 100k u.data: user, item, rating, epoch seconds, tab-separated, no header.
    private const string MovieLensSample = """
        196	242	3	881250949
        186	302	3	891717742
        22	377	1	878887116
        244	51	2	880606923
        166	346	1	886397596
        298	474	4	884182806
        115	265	2	881171488
        253	465	5	891628467
        305	451	3	886324817
        6	86	3	883603013
        62	257	2	879372434
        286	1014	5	879781125
        200	222	5	876042340
        210	40	3	891035994
        224	29	3	888104457
        303	785	3	879485318
        122	387	5	879270459
        194	274	2	879539794
        291	1042	4	874834944
        234	1184	2	892079237
        """;

    private readonly TempDirectory _folder = new();

    private string _directory => _folder.Path;

    public void Dispose() => _folder.Dispose();

    private string Output => Path.Combine(_directory, "out");

    private string WriteInput(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
        return path;
    }

    private static ImportOptions MovieLens(string input, string output) => new(
        input, output, Delimiter: '\t', HasHeader: false,
        UserColumn: "1", ItemColumn: "2", WeightColumn: "3", TimeColumn: "4",
        TimeFormat: "epoch-seconds", ConstantEventType: "rating");

    private static DateTime Utc(int year, int month, int day, int hour, int minute, int second) =>
        new(year, month, day, hour, minute, second, DateTimeKind.Utc);

    [Fact]
    public async Task MovieLens_u_data_imports_by_position_with_epoch_seconds_and_a_constant_event_type()
    {
        var input = WriteInput("u.data", MovieLensSample + "\n");

        var result = await CsvImporter.ImportAsync(MovieLens(input, Output), CancellationToken.None);

        Assert.Equal(20, result.Rows);
        Assert.Equal(0, result.SkippedRows);
        Assert.Equal(Path.Combine(Output, "part-00000.parquet"), result.OutputFile);
        Assert.Equal(["user_id", "item_id", "event_type", "event_time", "weight"], await ParquetRows.ColumnsAsync(result.OutputFile));
        var rows = await ParquetRows.ReadAsync(result.OutputFile);
        Assert.Equal(20, rows.Count);
        Assert.Equal(["196", "242", "rating", Utc(1997, 12, 4, 15, 55, 49), 3.0], rows[0]);
        Assert.Equal(["234", "1184", "rating", DateTime.UnixEpoch.AddSeconds(892079237), 2.0], rows[19]);
        Assert.Equal([Path.GetFileName(result.OutputFile)], Directory.GetFiles(Output).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Header_names_quoted_fields_and_iso_times_are_understood()
    {
        // Plain string: the doubled quotes would end a raw string literal.
        var input = WriteInput("events.csv",
            "user,item,action,ts,score\n" +
            "alice,\"a,b\",like,2024-03-01T10:00:00Z,1.5\n" +
            "bob,\"say \"\"hi\"\"\",view,2024-03-01 12:30:00+02:00,2\n" +
            "\n" +
            "\"carol\",\"multi\nline\",share,2024-03-02T00:00:00,-1e1\n");

        var options = new ImportOptions(input, Output, UserColumn: "user", ItemColumn: "item", EventTypeColumn: "action", TimeColumn: "ts", WeightColumn: "score");
        var result = await CsvImporter.ImportAsync(options, CancellationToken.None);

        Assert.Equal(3, result.Rows);
        Assert.Equal(1, result.SkippedRows);
        var rows = await ParquetRows.ReadAsync(result.OutputFile);
        Assert.Equal(["alice", "a,b", "like", Utc(2024, 3, 1, 10, 0, 0), 1.5], rows[0]);
        Assert.Equal(["bob", "say \"hi\"", "view", Utc(2024, 3, 1, 10, 30, 0), 2.0], rows[1]);
        Assert.Equal(["carol", "multi\nline", "share", Utc(2024, 3, 2, 0, 0, 0), -10.0], rows[2]);
    }

    [Fact]
    public async Task Contract_column_names_are_the_defaults_and_auto_detects_epoch_millis()
    {
        var input = WriteInput("events.csv", """
            event_time,event_type,item_id,user_id
            1700000000123,view,i1,u1
            1700000001000,like,i2,u1
            """);

        var result = await CsvImporter.ImportAsync(new ImportOptions(input, Output), CancellationToken.None);

        Assert.Equal(["user_id", "item_id", "event_type", "event_time"], await ParquetRows.ColumnsAsync(result.OutputFile));
        var rows = await ParquetRows.ReadAsync(result.OutputFile);
        Assert.Equal(["u1", "i1", "view", DateTime.UnixEpoch.AddMilliseconds(1700000000123)], rows[0]);
        Assert.Equal(["u1", "i2", "like", DateTime.UnixEpoch.AddMilliseconds(1700000001000)], rows[1]);
    }

    [Fact]
    public async Task Items_without_a_creator_column_get_null_creators()
    {
        var input = WriteInput("artists.tsv", "id\tgenre\n51\trock\n52\t\"indie, pop\"\n");

        var result = await CsvImporter.ImportAsync(
            new ImportOptions(input, Output, Delimiter: '\t', ItemColumn: "id", CategoryColumn: "genre", Kind: "items"), CancellationToken.None);

        Assert.Equal(["item_id", "category", "creator_id"], await ParquetRows.ColumnsAsync(result.OutputFile));
        Assert.Equal([["51", "rock", null], ["52", "indie, pop", null]], await ParquetRows.ReadAsync(result.OutputFile));
    }

    [Fact]
    public async Task Follows_map_follower_and_followee_columns()
    {
        var input = WriteInput("user_friends.dat", "userID\tfriendID\n2\t275\n2\t428\n");

        var result = await CsvImporter.ImportAsync(
            new ImportOptions(input, Output, Delimiter: '\t', FollowerColumn: "userID", FolloweeColumn: "friendID", Kind: "follows"), CancellationToken.None);

        Assert.Equal(["follower_id", "followee_id"], await ParquetRows.ColumnsAsync(result.OutputFile));
        Assert.Equal([["2", "275"], ["2", "428"]], await ParquetRows.ReadAsync(result.OutputFile));
    }

    [Fact]
    public async Task Files_larger_than_a_row_group_stream_through_several_row_groups()
    {
        var rowCount = CsvImporter.RowGroupSize + 1_000;
        var path = Path.Combine(_directory, "big.csv");
        await using (var writer = new StreamWriter(path))
        {
            await writer.WriteLineAsync("user_id,item_id,event_time");
            for (var i = 0; i < rowCount; i++)
            {
                await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"u{i % 997},i{i % 101},{1_700_000_000 + i}"));
            }
        }

        var result = await CsvImporter.ImportAsync(new ImportOptions(path, Output, ConstantEventType: "view"), CancellationToken.None);

        Assert.Equal(rowCount, result.Rows);
        var rows = await ParquetRows.ReadAsync(result.OutputFile);
        Assert.Equal(rowCount, rows.Count);
        var last = rowCount - 1;
        Assert.Equal([$"u{last % 997}", $"i{last % 101}", "view", DateTime.UnixEpoch.AddSeconds(1_700_000_000 + last)], rows[^1]);
    }

    [Fact]
    public async Task Missing_file_is_named_with_its_full_path()
    {
        var error = await ImportFails(new ImportOptions(Path.Combine(_directory, "nope.csv"), Output));
        Assert.Contains("nope.csv: file not found at '" + Path.Combine(_directory, "nope.csv") + "'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_header_column_lists_the_header_and_the_option_to_pass()
    {
        var input = WriteInput("events.csv", "user_id,item,event_type,event_time\nu1,i1,view,1700000000\n");
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.Equal(
            "events.csv: the header has no 'item_id' column (columns: user_id, item, event_type, event_time). Pass --item-column <name or 1-based position> to say which column holds item_id.",
            error.Message);
    }

    [Fact]
    public async Task Missing_time_column_suggests_a_constant_time()
    {
        var input = WriteInput("plays.csv", "user_id,item_id\nu1,i1\n");
        var error = await ImportFails(new ImportOptions(input, Output, ConstantEventType: "play"));
        Assert.Contains("no 'event_time' column", error.Message, StringComparison.Ordinal);
        Assert.Contains("--constant-time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_where_a_position_is_needed_is_reported()
    {
        var input = WriteInput("u.data", MovieLensSample);
        var error = await ImportFails(MovieLens(input, Output) with { UserColumn = "user_id" });
        Assert.Equal("u.data has no header and 4 columns per line, so --user-column must be a position from 1 to 4, not 'user_id'.", error.Message);
    }

    [Fact]
    public async Task Wrong_column_count_names_the_line_and_suggests_the_delimiter()
    {
        var input = WriteInput("u.data", "196\t242\t3\t881250949\n186\t302\t3\n");
        var error = await ImportFails(MovieLens(input, Output));
        Assert.Equal(
            "u.data line 2: expected 4 columns (as on the first line) but found 3. Check the delimiter (--delimiter, now '\\t') and the quoting of values that contain it.",
            error.Message);
    }

    [Fact]
    public async Task Unparsable_time_names_file_line_column_and_value_and_suggests_a_time_format()
    {
        var lines = new StringBuilder("user_id,item_id,event_type,timestamp\n");
        for (var i = 0; i < 15; i++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"u{i},i{i},view,2024-01-01T00:00:{i:D2}Z\n");
        }

        lines.Append("u99,i99,view,abc\n");
        var input = WriteInput("events.csv", lines.ToString());

        var error = await ImportFails(new ImportOptions(input, Output, TimeColumn: "timestamp"));

        Assert.Equal(
            "events.csv line 17, column 'timestamp': 'abc' is not an ISO-8601 time between 1970 and 2200; pass --time-format iso|epoch-seconds|epoch-millis to match the file, or pick another column with --time-column.",
            error.Message);
    }

    [Fact]
    public async Task Unparsable_first_time_in_auto_mode_lists_the_accepted_formats()
    {
        var input = WriteInput("events.csv", "user_id,item_id,event_type,event_time\nu1,i1,view,yesterday\n");
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.StartsWith("events.csv line 2, column 'event_time': 'yesterday' is not an epoch-seconds, epoch-millis or ISO-8601 time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Epoch_millis_read_as_seconds_are_rejected_instead_of_landing_in_the_far_future()
    {
        var input = WriteInput("u.data", "196\t242\t3\t881250949000\n");
        var error = await ImportFails(MovieLens(input, Output));
        Assert.StartsWith("u.data line 1, column 4: '881250949000' is not an epoch-seconds time", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unparsable_weight_names_the_value_and_the_fix()
    {
        var input = WriteInput("u.data", "196\t242\t3\t881250949\n186\t302\tthree\t891717742\n");
        var error = await ImportFails(MovieLens(input, Output));
        Assert.Equal(
            "u.data line 2, column 3: 'three' is not a number; weights are plain numbers such as 3 or 0.5 (decimal point, no thousands separator). Fix the value or pick another column with --weight-column.",
            error.Message);
    }

    [Fact]
    public async Task Empty_id_is_reported()
    {
        var input = WriteInput("u.data", "196\t242\t3\t881250949\n\t302\t3\t891717742\n");
        var error = await ImportFails(MovieLens(input, Output));
        Assert.StartsWith("u.data line 2, column 1: '' is empty but every row needs a user_id", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "events.csv is empty: expected a header line followed by rows.")]
    [InlineData("\n  \n", "events.csv is empty: expected a header line followed by rows.")]
    [InlineData("user_id,item_id,event_type,event_time\n", "events.csv has a header but no rows.")]
    public async Task Empty_files_are_reported(string content, string message)
    {
        var input = WriteInput("events.csv", content);
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public async Task Unclosed_quote_is_reported_with_its_line()
    {
        var input = WriteInput("events.csv", "user_id,item_id,event_type,event_time\nu1,\"i1,view,1700000000\n");
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.StartsWith("events.csv line 2: a quoted field is never closed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Conflicting_or_unknown_options_are_configuration_errors()
    {
        var input = WriteInput("u.data", MovieLensSample);
        await Assert.ThrowsAsync<ConfigurationException>(() => CsvImporter.ImportAsync(MovieLens(input, Output) with { TimeFormat = "unix" }, CancellationToken.None));
        await Assert.ThrowsAsync<ConfigurationException>(() => CsvImporter.ImportAsync(MovieLens(input, Output) with { Kind = "likes" }, CancellationToken.None));
        await Assert.ThrowsAsync<ConfigurationException>(() => CsvImporter.ImportAsync(MovieLens(input, Output) with { EventTypeColumn = "3" }, CancellationToken.None));
        await Assert.ThrowsAsync<ConfigurationException>(() => CsvImporter.ImportAsync(MovieLens(input, Output) with { ConstantTime = DateTime.UnixEpoch }, CancellationToken.None));
    }

    [Fact]
    public async Task Last_fm_user_artists_imports_all_rows_with_a_constant_time_when_the_shared_copy_exists()
    {
        var root = RepositoryRoot();
        Assert.True(File.Exists(Path.Combine(root, "SparkReco.sln")));
        var path = Path.GetFullPath(Path.Combine(root, "..", "shared", "data", "lastfm-hetrec-2k", "user_artists.dat"));
        if (!File.Exists(path))
        {
            return; // The data set is an optional shared download; nothing more to check without it.
        }

        var asOf = Utc(2011, 5, 1, 0, 0, 0);
        var options = new ImportOptions(path, Output, Delimiter: '\t', UserColumn: "userID", ItemColumn: "artistID", WeightColumn: "weight",
            ConstantEventType: "play", ConstantTime: asOf);
        var result = await CsvImporter.ImportAsync(options, CancellationToken.None);

        Assert.Equal(92_834, result.Rows);
        var rows = await ParquetRows.ReadAsync(result.OutputFile);
        Assert.Equal(["2", "51", "play", asOf, 13883.0], rows[0]);
        Assert.All(rows, row => Assert.Equal(asOf, row[3]));
    }

    private async Task<InputDataException> ImportFails(ImportOptions options)
    {
        var error = await Assert.ThrowsAsync<InputDataException>(() => CsvImporter.ImportAsync(options, CancellationToken.None));
        Assert.Equal(ExitCodes.InputData, error.ExitCode);
        // A failed import leaves nothing behind, not even the temporary file.
        Assert.True(!Directory.Exists(Output) || Directory.GetFiles(Output).Length == 0, "output left behind");
        return error;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SparkReco.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("SparkReco.sln not found above " + AppContext.BaseDirectory);
    }
}
