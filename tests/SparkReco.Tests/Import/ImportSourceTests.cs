using System.Globalization;
using System.IO.Compression;
using System.Text;
using SparkReco.Core.Errors;
using SparkReco.Input.Import;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Import;

/// <summary>What the importer makes of the file's bytes before it parses them: gzip, other formats, binary, and the sniffed delimiter.</summary>
public sealed class ImportSourceTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private string Output => _folder.Combine("out");

    private string Write(string name, byte[] bytes)
    {
        var path = _folder.Combine(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Write(string name, string text) => Write(name, Encoding.UTF8.GetBytes(text));

    private static byte[] Gzip(string text)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes(text));
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// More than the 64 KiB the sniffer samples, with varied values so the gzip form is not tiny either:
    /// the sample then ends mid-record, and a truncated gzip loses real rows.
    /// </summary>
    private static string ManyEvents(int rows = 6_000)
    {
        var text = new StringBuilder("user_id,item_id,event_type,event_time,weight\n");
        var random = new Random(11);
        for (var i = 0; i < rows; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"u{random.Next(100_000)},\"item {random.Next(1_000_000)}; {i}\",view,{1_700_000_000 + i},{random.NextDouble():R}\n");
        }

        return text.ToString();
    }

    private async Task<InputDataException> ImportFails(ImportOptions options)
    {
        var error = await Assert.ThrowsAsync<InputDataException>(() => CsvImporter.ImportAsync(options, CancellationToken.None));
        Assert.Equal(ExitCodes.InputData, error.ExitCode);
        Assert.True(!Directory.Exists(Output) || Directory.GetFiles(Output).Length == 0, "output left behind");
        return error;
    }

    [Fact]
    public async Task Gzip_input_imports_to_the_same_rows_as_the_plain_file()
    {
        var text = ManyEvents();
        Assert.True(text.Length > 1 << 16, "the file must be larger than the 64 KiB sniffed sample");
        var plain = await CsvImporter.ImportAsync(new ImportOptions(Write("events.csv", text), _folder.Combine("plain")), CancellationToken.None);
        var gzip = await CsvImporter.ImportAsync(new ImportOptions(Write("events.csv.gz", Gzip(text)), Output), CancellationToken.None);

        Assert.False(plain.Gzip);
        Assert.True(gzip.Gzip);
        Assert.Equal((',', true), (gzip.Delimiter, gzip.DelimiterDetected));
        Assert.Equal(6_000, gzip.Rows);
        Assert.Equal(await ParquetRows.ReadAsync(plain.OutputFile), await ParquetRows.ReadAsync(gzip.OutputFile));
    }

    [Fact]
    public async Task Gzip_is_recognised_by_its_bytes_whatever_the_name()
    {
        var input = Write("events.csv", Gzip("user_id\titem_id\tevent_time\nu1\ti1\t1700000000\n"));
        var result = await CsvImporter.ImportAsync(new ImportOptions(input, Output, ConstantEventType: "view"), CancellationToken.None);
        Assert.True(result.Gzip);
        Assert.Equal([["u1", "i1", "view", DateTime.UnixEpoch.AddSeconds(1_700_000_000)]], await ParquetRows.ReadAsync(result.OutputFile));
    }

    [Fact]
    public async Task A_gz_name_on_plain_text_is_reported()
    {
        var input = Write("events.csv.gz", "user_id,item_id,event_type,event_time\nu1,i1,view,1700000000\n");
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.StartsWith("events.csv.gz is named .gz but is not gzip data", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_gzip_is_reported_with_the_file_name()
    {
        var bytes = Gzip(ManyEvents());
        // Overwrite the middle of the deflate data; the header stays valid, so only decompression can notice.
        for (var i = bytes.Length / 2; i < bytes.Length / 2 + 64; i++)
        {
            bytes[i] = 0xff;
        }

        var error = await ImportFails(new ImportOptions(Write("events.csv.gz", bytes), Output));
        Assert.StartsWith("events.csv.gz: the gzip data is corrupt or truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_gzip_is_reported_instead_of_importing_part_of_the_file()
    {
        var bytes = Gzip(ManyEvents());
        var error = await ImportFails(new ImportOptions(Write("events.csv.gz", bytes[..(bytes.Length / 2)]), Output));
        Assert.StartsWith("events.csv.gz: the gzip data is corrupt or truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concatenated_gzip_members_import_as_one_file()
    {
        // cat header.gz rows.gz: valid gzip whose trailer covers only the last member, so the truncation check must not refuse it.
        var input = Write("events.csv.gz", [.. Gzip("user_id,item_id,event_type,event_time\n"), .. Gzip("u1,i1,view,1700000000\nu2,i2,view,1700000001\n")]);
        var result = await CsvImporter.ImportAsync(new ImportOptions(input, Output), CancellationToken.None);
        Assert.Equal(2, result.Rows);
    }

    [Theory]
    [InlineData("events.csv.zst", new byte[] { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00 }, "zstd-compressed")]
    [InlineData("events.csv.bz2", new byte[] { (byte)'B', (byte)'Z', (byte)'h', (byte)'9', 0x31, 0x41 }, "bzip2-compressed")]
    [InlineData("events.csv.xz", new byte[] { 0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00, 0x00 }, "xz-compressed")]
    // The name does not matter: a zstd file named .csv is still named for what it is.
    [InlineData("events.csv", new byte[] { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00 }, "zstd-compressed")]
    public async Task Other_compressed_formats_are_named(string name, byte[] head, string format)
    {
        var error = await ImportFails(new ImportOptions(Write(name, [.. head, .. Encoding.ASCII.GetBytes("user_id,item_id\n")]), Output));
        Assert.Equal($"{name} is {format}, not CSV/TSV text; decompress it first (or compress it with gzip, which import reads directly).", error.Message);
    }

    [Fact]
    public async Task A_zip_archive_is_named()
    {
        using (var zip = ZipFile.Open(_folder.Combine("events.zip"), ZipArchiveMode.Create))
        {
            await using var entry = new StreamWriter(zip.CreateEntry("events.csv").Open());
            await entry.WriteAsync("user_id,item_id,event_type,event_time\nu1,i1,view,1700000000\n");
        }

        var error = await ImportFails(new ImportOptions(_folder.Combine("events.zip"), Output));
        Assert.StartsWith("events.zip is a zip archive, not CSV/TSV text; decompress it first", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_with_NUL_bytes_is_not_text()
    {
        var input = Write("events.csv", [.. Encoding.ASCII.GetBytes("user_id,item_id\n"), 0x00, 0x01, 0x02]);
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.StartsWith("events.csv is not text: it has a NUL byte at offset 16. ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_content_inside_gzip_is_not_text_either()
    {
        var input = Write("data.gz", Gzip("\0\0\0binary"));
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.StartsWith("data.gz is not text: it has a NUL byte at offset 0 of its decompressed content.", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_header_that_is_not_UTF8_is_reported()
    {
        // "usér_id" in Latin-1: 0xE9 followed by '_' is not a UTF-8 sequence.
        var input = Write("events.csv", [.. Encoding.Latin1.GetBytes("us\u00e9r_id,item_id,event_type,event_time\n"), .. Encoding.ASCII.GetBytes("u1,i1,view,1700000000\n")]);
        var error = await ImportFails(new ImportOptions(input, Output, UserColumn: "1"));
        Assert.StartsWith("events.csv is not UTF-8 text: its first line has bytes that are not valid UTF-8.", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(',')]
    [InlineData('\t')]
    [InlineData(';')]
    [InlineData('|')]
    public async Task The_delimiter_is_sniffed_with_quoted_fields_holding_the_other_delimiters(char delimiter)
    {
        // Every line starts with a quoted field holding each other candidate once: counted without honouring
        // the quotes, each other candidate would split every line into 2 columns too, and the sniff would be
        // ambiguous. (Only a field that starts a line can show this: a quote mid-line opens a quoted field
        // only for the delimiter that precedes it, so the other candidates split there anyway, as the reader would.)
        var others = new string(",\t;|".Where(c => c != delimiter).ToArray());
        string Line(params string[] fields) => string.Join(delimiter, fields) + "\n";
        var input = Write("events.txt",
            Line($"\"user{others}id\"", "item_id", "event_type", "event_time") +
            Line($"\"u{others}1\"", "i1", "view", "1700000000") +
            Line($"\"u{others}2\"", "i2", "like", "1700000001"));

        var result = await CsvImporter.ImportAsync(new ImportOptions(input, Output, UserColumn: $"user{others}id"), CancellationToken.None);

        Assert.Equal((delimiter, true), (result.Delimiter, result.DelimiterDetected));
        Assert.Equal(
            [[$"u{others}1", "i1", "view", DateTime.UnixEpoch.AddSeconds(1_700_000_000)], [$"u{others}2", "i2", "like", DateTime.UnixEpoch.AddSeconds(1_700_000_001)]],
            await ParquetRows.ReadAsync(result.OutputFile));
    }

    [Fact]
    public async Task A_quoted_field_spanning_lines_does_not_confuse_the_sniffer()
    {
        var input = Write("events.csv", "user_id;item_id;event_type;event_time\nu1;\"two\nlines, with a comma\";view;1700000000\nu2;i2;view;1700000001\n");
        var result = await CsvImporter.ImportAsync(new ImportOptions(input, Output), CancellationToken.None);
        Assert.Equal(';', result.Delimiter);
        Assert.Equal("two\nlines, with a comma", (await ParquetRows.ReadAsync(result.OutputFile))[0][1]);
    }

    [Fact]
    public async Task Ambiguous_delimiter_fails_listing_what_was_tried()
    {
        var input = Write("follows.txt", "follower_id|x,followee_id|y\na|1,b|2\n");
        var error = await ImportFails(new ImportOptions(input, Output, Kind: "follows"));
        Assert.Equal(
            "follows.txt: cannot tell the delimiter from the first 2 line(s): ',' and '|' both split every line consistently, so it is ambiguous " +
            "(',' gives 2 column(s) on every line; '\\t' gives 1 column(s) on every line; ';' gives 1 column(s) on every line; '|' gives 3 column(s) on every line). " +
            "Pass --delimiter (a character, or 'tab').",
            error.Message);
    }

    [Fact]
    public async Task An_explicit_delimiter_is_used_where_sniffing_would_be_ambiguous()
    {
        var input = Write("follows.txt", "follower_id|x,followee_id|y\na|1,b|2\n");
        var result = await CsvImporter.ImportAsync(
            new ImportOptions(input, Output, Delimiter: ',', Kind: "follows", FollowerColumn: "follower_id|x", FolloweeColumn: "followee_id|y"), CancellationToken.None);
        Assert.Equal((',', false), (result.Delimiter, result.DelimiterDetected));
        Assert.Equal([["a|1", "b|2"]], await ParquetRows.ReadAsync(result.OutputFile));
    }

    [Fact]
    public async Task No_consistent_delimiter_fails_listing_what_was_tried()
    {
        // Space-separated, and one comma in a value that is not quoted: nothing fits.
        var input = Write("events.txt", "user_id item_id event_time\nu1 i1,x 1700000000\nu2 i2 1700000001\n");
        var error = await ImportFails(new ImportOptions(input, Output, ConstantEventType: "view"));
        Assert.Equal(
            "events.txt: cannot tell the delimiter from the first 3 line(s): none of ',', tab, ';', '|' splits every line into the same number (more than one) of columns " +
            "(',' gives 1/2 columns on different lines; '\\t' gives 1 column(s) on every line; ';' gives 1 column(s) on every line; '|' gives 1 column(s) on every line). " +
            "Pass --delimiter (a character, or 'tab').",
            error.Message);
    }

    [Fact]
    public async Task A_bad_line_past_the_sniffed_sample_names_the_detected_delimiter()
    {
        var input = Write("events.csv", ManyEvents() + "u1,i1,view\n");
        var error = await ImportFails(new ImportOptions(input, Output));
        Assert.Equal(
            "events.csv line 6002: expected 5 columns (as in the header) but found 3. Check the delimiter (--delimiter, now ',' as detected) and the quoting of values that contain it.",
            error.Message);
    }
}
