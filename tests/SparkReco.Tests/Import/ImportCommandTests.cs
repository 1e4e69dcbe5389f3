using System.IO.Compression;
using System.Text;
using SparkReco.Core.Errors;
using SparkReco.Tests.Support;

namespace SparkReco.Tests.Import;

/// <summary>The import command's own output: which delimiter and compression it used, and its exit code for unreadable input.</summary>
[Collection(CliCollection.Name)]
public sealed class ImportCommandTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Import_without_delimiter_reads_gzip_and_says_which_delimiter_it_detected()
    {
        await using (var gzip = new GZipStream(File.Create(_dir.Combine("u.data.gz")), CompressionLevel.Optimal))
        {
            gzip.Write(Encoding.UTF8.GetBytes("196\t242\t3\t881250949\n186\t302\t3\t891717742\n"));
        }

        var import = await CliRunner.RunAsync("import", "--input", _dir.Combine("u.data.gz"), "--output", _dir.Combine("ml"),
            "--no-header", "--user-column", "1", "--item-column", "2", "--weight-column", "3", "--time-column", "4",
            "--time-format", "epoch-seconds", "--constant-event-type", "rating");

        Assert.True(import.ExitCode == 0, import.Error);
        Assert.Contains("Read gzip-compressed u.data.gz with delimiter tab (detected; pass --delimiter to override)", import.Out);
        Assert.Contains("Imported 2 rows", import.Out);
    }

    [Fact]
    public async Task Import_of_a_zstd_file_exits_3_and_says_what_it_is()
    {
        await File.WriteAllBytesAsync(_dir.Combine("events.csv.zst"), [0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x00, 0x41]);
        var import = await CliRunner.RunAsync("import", "--input", _dir.Combine("events.csv.zst"), "--output", _dir.Combine("out"));
        Assert.Equal(ExitCodes.InputData, import.ExitCode);
        Assert.Contains("events.csv.zst is zstd-compressed, not CSV/TSV text; decompress it first", import.Error);
    }
}
