using System.Buffers.Binary;
using System.IO.Compression;

namespace SparkReco.Input.Import;

/// <summary>
/// Decompresses gzip and, at the end, checks the output against the file's trailer (CRC-32 and size).
/// Needed because <see cref="GZipStream"/> ends silently when the data is cut short (measured on .NET 10:
/// half a file decompresses to half the rows without an error), which would import part of a file as if
/// it were all of it. A mismatch throws <see cref="InvalidDataException"/>, which the importer reports.
/// </summary>
internal sealed class GzipCheckStream : Stream
{
    private static readonly uint[] Table = CreateTable();

    private readonly GZipStream _inner;
    private readonly string _path;
    private readonly uint? _expectedCrc;
    private readonly uint? _expectedSize;
    private uint _crc = 0xffffffff;
    private ulong _size;
    private bool _checked;

    public GzipCheckStream(FileStream file, string path)
    {
        _path = path;
        // The smallest gzip file (10-byte header, empty deflate block, 8-byte trailer) is 18+ bytes.
        if (file.Length >= 18)
        {
            Span<byte> trailer = stackalloc byte[8];
            file.Seek(-8, SeekOrigin.End);
            file.ReadExactly(trailer);
            file.Position = 0;
            _expectedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
            _expectedSize = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        }

        _inner = new GZipStream(file, CompressionMode.Decompress, leaveOpen: false);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = _inner.Read(buffer);
        if (read > 0)
        {
            var crc = _crc;
            foreach (var b in buffer[..read])
            {
                crc = Table[(crc ^ b) & 0xff] ^ (crc >> 8);
            }

            _crc = crc;
            _size += (ulong)read;
        }
        else if (buffer.Length > 0 && !_checked)
        {
            _checked = true;
            Check();
        }

        return read;
    }

    private void Check()
    {
        var crc = _crc ^ 0xffffffff;
        if (crc == _expectedCrc && (uint)_size == _expectedSize)
        {
            return;
        }

        // Concatenated gzip members (cat a.gz b.gz) are valid, and the trailer then covers only the last
        // member; a further member header means this check cannot decide, so it gives the benefit of the doubt.
        if (HasLaterMember())
        {
            return;
        }

        throw new InvalidDataException($"it decompressed to {_size} bytes but its gzip trailer records {_expectedSize?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "nothing"} bytes and a different checksum");
    }

    /// <summary>Whether the gzip member signature (1f 8b 08) occurs past the start of the file.</summary>
    private bool HasLaterMember()
    {
        using var file = new FileStream(_path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var buffer = new byte[1 << 16];
        var carry = 0;
        var first = true;
        while (true)
        {
            var read = file.Read(buffer, carry, buffer.Length - carry);
            if (read == 0)
            {
                return false;
            }

            var span = buffer.AsSpan(0, carry + read);
            var start = first ? 1 : 0;
            if (span[start..].IndexOf((ReadOnlySpan<byte>)[0x1f, 0x8b, 0x08]) >= 0)
            {
                return true;
            }

            first = false;
            // Keep the last two bytes: a signature may straddle two reads.
            carry = Math.Min(2, span.Length);
            span[^carry..].CopyTo(buffer);
        }
    }

    private static uint[] CreateTable()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xedb88320 ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
