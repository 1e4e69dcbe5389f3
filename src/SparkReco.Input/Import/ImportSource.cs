using System.Globalization;
using System.Text;
using SparkReco.Core.Errors;

namespace SparkReco.Input.Import;

/// <summary>
/// What the bytes of an import file are, decided from its first bytes rather than its name: names lie
/// (a renamed <c>.csv.gz</c>, a <c>.gz</c> that was already decompressed), and before this check a
/// compressed or binary file surfaced as a misleading "1 columns" error. Plain text and gzip are read;
/// every other recognised format is named so the user knows what to do with it.
/// </summary>
internal static class ImportSource
{
    /// <summary>Bytes of decoded text the checks and the delimiter sniffer look at.</summary>
    internal const int SampleBytes = 1 << 16;

    /// <summary>Records (header included) the sniffer compares; enough to see an inconsistent count, few enough to stay cheap.</summary>
    internal const int SampleRecords = 20;

    /// <summary>Delimiters tried when none is given, in the order they are reported.</summary>
    internal static readonly char[] Candidates = [',', '\t', ';', '|'];

    /// <summary>Opens the file's text as a byte stream: the file itself, or its gzip-decompressed content.</summary>
    public static Stream Open(string path, string fileName, out bool gzip)
    {
        var file = new FileStream(path, new FileStreamOptions { BufferSize = 1 << 16, Options = FileOptions.SequentialScan });
        try
        {
            Span<byte> head = stackalloc byte[8];
            var read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            head = head[..read];
            file.Position = 0;

            gzip = head.StartsWith((ReadOnlySpan<byte>)[0x1f, 0x8b]);
            if (gzip)
            {
                return new GzipCheckStream(file, path);
            }

            if (Recognise(head) is { } format)
            {
                throw new InputDataException($"{fileName} is {format}, not CSV/TSV text; decompress it first (or compress it with gzip, which import reads directly).");
            }

            if (fileName.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
            {
                // Reading it as text would work if it is text, but the name says otherwise and the user should know which is wrong.
                throw new InputDataException($"{fileName} is named .gz but is not gzip data (it does not start with the gzip bytes 1f 8b); rename it if it is plain text, or check how it was produced.");
            }

            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Formats recognisable by their magic bytes that import cannot read.</summary>
    private static string? Recognise(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xb5, 0x2f, 0xfd])) return "zstd-compressed";
        if (head.StartsWith("BZh"u8)) return "bzip2-compressed";
        if (head.StartsWith((ReadOnlySpan<byte>)[0xfd, (byte)'7', (byte)'z', (byte)'X', (byte)'Z', 0x00])) return "xz-compressed";
        if (head.StartsWith("PK\x03\x04"u8) || head.StartsWith("PK\x05\x06"u8)) return "a zip archive";
        if (head.StartsWith((ReadOnlySpan<byte>)[(byte)'7', (byte)'z', 0xbc, 0xaf, 0x27, 0x1c])) return "a 7-Zip archive";
        if (head.StartsWith("PAR1"u8)) return "already a Parquet file (pass it to run with --events/--items/--follows)";
        return null;
    }

    /// <summary>
    /// Checks the start of the text: NUL bytes mean binary (or UTF-16 without a byte-order mark), and the
    /// first line must be valid UTF-8, since it names the columns. Returns the decoded sample for sniffing.
    /// </summary>
    public static string ReadSample(Stream stream, string fileName, bool gzip, out bool wholeFile)
    {
        var buffer = new byte[SampleBytes];
        var length = ReadFully(stream, buffer, fileName, gzip);
        wholeFile = length < buffer.Length;
        var bytes = buffer.AsSpan(0, length);

        // A UTF-16/32 byte-order mark is honoured by the reader; those files contain NULs by nature.
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xff, 0xfe]) || bytes.StartsWith((ReadOnlySpan<byte>)[0xfe, 0xff]) || bytes.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xfe, 0xff]))
        {
            using var reader = new StreamReader(new MemoryStream(buffer, 0, length), Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
            return reader.ReadToEnd();
        }

        if (bytes.IndexOf((byte)0) is var nul and >= 0)
        {
            throw new InputDataException(
                $"{fileName} is not text: it has a NUL byte at offset {nul.ToString(CultureInfo.InvariantCulture)}{(gzip ? " of its decompressed content" : "")}. " +
                "Import reads UTF-8 CSV/TSV (plain or gzip); if this is UTF-16 without a byte-order mark, convert it to UTF-8.");
        }

        if (bytes.StartsWith(Encoding.UTF8.Preamble))
        {
            bytes = bytes[Encoding.UTF8.Preamble.Length..];
        }

        var newline = bytes.IndexOf((byte)'\n');
        var firstLine = newline >= 0 ? bytes[..newline] : bytes;
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            // flush: false when the line is cut by the sample end, so a character split there is not an error.
            strict.GetDecoder().GetCharCount(firstLine, flush: newline >= 0 || wholeFile);
        }
        catch (DecoderFallbackException)
        {
            throw new InputDataException(
                $"{fileName} is not UTF-8 text: its first line has bytes that are not valid UTF-8. " +
                "If it is text in another encoding (e.g. Latin-1 or Windows-1252), convert it to UTF-8 (iconv -f latin1 -t utf-8); otherwise it is a binary file.");
        }

        // Replacement characters past the first line are the reader's business, as before.
        return Encoding.UTF8.GetString(bytes);
    }

    private static int ReadFully(Stream stream, byte[] buffer, string fileName, bool gzip)
    {
        try
        {
            return stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e) when (gzip)
        {
            throw CorruptGzip(fileName, e);
        }
    }

    public static InputDataException CorruptGzip(string fileName, Exception e) =>
        new($"{fileName}: the gzip data is corrupt or truncated ({e.Message.TrimEnd('.')}). Download or compress it again; `gzip -t {fileName}` checks it.");

    /// <summary>
    /// Picks the delimiter from the first records of the sample: the one candidate that splits every
    /// record into the same number of fields (more than one), quotes honoured as the reader honours them.
    /// Anything else is refused with what each candidate gave, since a guessed delimiter silently maps
    /// the wrong columns.
    /// </summary>
    public static char Sniff(string sample, bool wholeFile, string fileName)
    {
        var results = Candidates.Select(c => (Delimiter: c, Counts: FieldCounts(sample, c, wholeFile))).ToList();
        var consistent = results.Where(r => r.Counts.Count > 0 && r.Counts.All(n => n == r.Counts[0]) && r.Counts[0] > 1).ToList();
        if (consistent.Count == 1)
        {
            return consistent[0].Delimiter;
        }

        var records = results.Max(r => r.Counts.Count);
        var tried = string.Join("; ", results.Select(r => $"'{Printable(r.Delimiter)}' gives {Describe(r.Counts)}"));
        var why = consistent.Count > 1
            ? $"{string.Join(" and ", consistent.Select(r => $"'{Printable(r.Delimiter)}'"))} {(consistent.Count == 2 ? "both" : "all")} split every line consistently, so it is ambiguous"
            : "none of ',', tab, ';', '|' splits every line into the same number (more than one) of columns";
        throw new InputDataException(
            $"{fileName}: cannot tell the delimiter from the first {records.ToString(CultureInfo.InvariantCulture)} line(s): {why} ({tried}). " +
            "Pass --delimiter (a character, or 'tab').");
    }

    private static string Describe(List<int> counts)
    {
        var distinct = counts.Distinct().Order().ToList();
        return distinct.Count switch
        {
            0 => "no complete line",
            1 => $"{distinct[0].ToString(CultureInfo.InvariantCulture)} column(s) on every line",
            _ => $"{string.Join("/", distinct.Select(n => n.ToString(CultureInfo.InvariantCulture)))} columns on different lines",
        };
    }

    /// <summary>
    /// Field counts of the sample's first non-blank records split by <paramref name="delimiter"/>, using the
    /// reader's rules: a quote opens a quoted field only at the start of a field and may span lines. A
    /// record the sample cuts off (or whose quote never closes) is left out; the reader reports it.
    /// </summary>
    private static List<int> FieldCounts(string sample, char delimiter, bool wholeFile)
    {
        var counts = new List<int>();
        var pos = sample.Length > 0 && sample[0] == '\uFEFF' ? 1 : 0;
        while (pos < sample.Length && counts.Count < SampleRecords)
        {
            var fields = 1;
            var atFieldStart = true;
            var blank = true;
            var complete = false;
            while (pos < sample.Length)
            {
                var c = sample[pos];
                if (c == '\n')
                {
                    pos++;
                    complete = true;
                    break;
                }

                if (atFieldStart && c == '"')
                {
                    var close = ClosingQuote(sample, pos + 1);
                    if (close < 0)
                    {
                        return counts; // unclosed within the sample: stop here
                    }

                    blank = false;
                    atFieldStart = false;
                    pos = close + 1;
                    continue;
                }

                if (c == delimiter)
                {
                    fields++;
                    atFieldStart = true;
                }
                else
                {
                    atFieldStart = false;
                }

                if (!char.IsWhiteSpace(c))
                {
                    blank = false;
                }

                pos++;
            }

            if (!complete && !wholeFile)
            {
                break; // cut off by the sample's end
            }

            if (!blank)
            {
                counts.Add(fields);
            }
        }

        return counts;
    }

    /// <summary>The index of the quote closing a quoted field whose content starts at <paramref name="pos"/>; -1 if none.</summary>
    private static int ClosingQuote(string sample, int pos)
    {
        while (true)
        {
            var quote = sample.IndexOf('"', pos);
            if (quote < 0)
            {
                return -1;
            }

            if (quote + 1 < sample.Length && sample[quote + 1] == '"')
            {
                pos = quote + 2;
                continue;
            }

            return quote;
        }
    }

    internal static string Printable(char c) => c switch
    {
        '\t' => "\\t",
        '\n' => "\\n",
        '\r' => "\\r",
        _ => c.ToString(),
    };
}
