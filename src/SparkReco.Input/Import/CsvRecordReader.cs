using System.Text;
using SparkReco.Core.Errors;

namespace SparkReco.Input.Import;

/// <summary>
/// Reads delimited records one at a time (RFC 4180 quoting: a field that starts with a double quote
/// may contain delimiters, line breaks and doubled quotes). Streaming, so file size does not matter.
/// A quote inside an unquoted field is kept literally, which is how most exporters' output is meant.
/// </summary>
internal sealed class CsvRecordReader(TextReader reader, char delimiter, string fileName)
{
    private readonly StringBuilder _quoted = new();
    private int _lastLine;

    /// <summary>The 1-based line on which the current record starts.</summary>
    public int LineNumber { get; private set; }

    /// <summary>Reads the next record into <paramref name="fields"/>; a blank line gives no fields. False at end of file.</summary>
    public bool TryRead(List<string> fields)
    {
        fields.Clear();
        var line = reader.ReadLine();
        if (line is null)
        {
            return false;
        }

        LineNumber = ++_lastLine;
        if (string.IsNullOrWhiteSpace(line))
        {
            return true;
        }

        var pos = 0;
        while (true)
        {
            if (pos < line.Length && line[pos] == '"')
            {
                (line, pos) = ReadQuoted(line, pos + 1);
            }
            else
            {
                _quoted.Clear();
            }

            // Up to the delimiter; after a closing quote this is normally nothing.
            var end = line.IndexOf(delimiter, pos);
            var text = end < 0 ? line.AsSpan(pos) : line.AsSpan(pos, end - pos);
            fields.Add(_quoted.Length == 0 ? text.ToString() : _quoted.Append(text).ToString());
            _quoted.Clear();
            if (end < 0)
            {
                return true;
            }

            pos = end + 1;
        }
    }

    /// <summary>Reads a quoted field starting after its opening quote, continuing onto following lines if needed.</summary>
    private (string Line, int Pos) ReadQuoted(string line, int pos)
    {
        _quoted.Clear();
        while (true)
        {
            var quote = line.IndexOf('"', pos);
            if (quote < 0)
            {
                _quoted.Append(line, pos, line.Length - pos).Append('\n');
                line = reader.ReadLine() ?? throw new InputDataException(
                    $"{fileName} line {LineNumber}: a quoted field is never closed (missing '\"'). Check the quoting, or pick the right delimiter with --delimiter.");
                _lastLine++;
                pos = 0;
                continue;
            }

            _quoted.Append(line, pos, quote - pos);
            if (quote + 1 < line.Length && line[quote + 1] == '"')
            {
                _quoted.Append('"');
                pos = quote + 2;
                continue;
            }

            return (line, quote + 1);
        }
    }
}
