using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Regards.Portal.Downloads;

/// <summary>
/// Writes a ZIP64 archive (entries and archives past 4 GiB) straight to a forward-only stream, for streaming readers
/// (Java's ZipInputStream, which REGARDS' clients use; libarchive) as well as random-access ones. An entry's CRC-32 is
/// only known once its bytes have passed, so it follows them in a data descriptor: having it in the local header
/// instead would take a second read of every file, or a CRC stored beforehand. A streaming reader finds the end of
/// such an entry only if the data ends itself, which stored (method 0) data does not: each entry is DEFLATE (method 8)
/// made of stored blocks, the raw bytes in 65 535-byte blocks behind a 5-byte header, closed by an empty final block.
/// That costs 5 bytes per block and no compression CPU. Memory: two read buffers and a small record per entry.
/// </summary>
public sealed class ZipStreamWriter(Stream output)
{
    private const ushort Zip64Version = 45;
    private const ushort Flags = 0x0008 | 0x0800; // data descriptor follows; names are UTF-8
    private const ushort Deflated = 8;
    private const int BlockHeader = 5; // BFINAL/BTYPE byte, LEN, NLEN
    private const int MaxBlock = ushort.MaxValue;
    private const int BlockStride = BlockHeader + MaxBlock;

    /// <summary>BFINAL = 1, BTYPE = 00 (stored), LEN = 0, NLEN = ~0: ends every entry's deflate stream.</summary>
    private static ReadOnlySpan<byte> FinalBlock => [0x01, 0x00, 0x00, 0xFF, 0xFF];

    private sealed record Entry(byte[] Name, uint Crc, long Size, long CompressedSize, long Offset, ushort DosTime, ushort DosDate);

    private readonly List<Entry> entries = [];
    private long position;

    public int EntriesCount => entries.Count;

    /// <summary>Size of an entry of <paramref name="size"/> raw bytes once framed in stored deflate blocks.</summary>
    private static long CompressedSize(long size) => size + BlockHeader * ((size + MaxBlock - 1) / MaxBlock) + FinalBlock.Length;

    /// <summary>Copies <paramref name="source"/> into a new entry; returns the bytes copied.</summary>
    public async Task<long> AddEntryAsync(string name, Stream source, DateTime modified, CancellationToken cancellationToken)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var (time, date) = DosDateTime(modified);
        var offset = position;

        // Streaming readers disagree on the descriptor's sizes: libarchive (and the spec) read 8-byte ones when the local
        // header has a ZIP64 extra field, Java's ZipInputStream (JDK 17 and 21) only once the compressed size passed
        // 0xFFFFFFFF. Both are right when the field is there exactly then: the source's length decides. A source of
        // unknown length gets no field: right for Java at any size, and for every reader below 4 GiB.
        var zip64 = source.CanSeek && CompressedSize(source.Length - source.Position) > uint.MaxValue;
        var header = new byte[30 + nameBytes.Length + (zip64 ? 20 : 0)];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], Deflated);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], time);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], date);
        // CRC and sizes are zero here (flag bit 3): the real ones follow the data; 0xFFFFFFFF points to the ZIP64 field.
        BinaryPrimitives.WriteUInt32LittleEndian(span[18..], zip64 ? uint.MaxValue : 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[22..], zip64 ? uint.MaxValue : 0);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)(zip64 ? 20 : 0));
        nameBytes.CopyTo(span[30..]);
        if (zip64)
        {
            var extra = span[(30 + nameBytes.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
        }
        await WriteAsync(header, cancellationToken);

        var crc = new Crc32();
        long size = 0;
        long compressed = 0;
        // Each read buffer is laid out as stored blocks, a 5-byte gap before each 65 535 bytes of data, so the file's
        // bytes are framed where they were read: one write per buffer, no copy. Two buffers: the next read from disk
        // runs while the current one is framed, hashed and sent, so the archive streams at the pace of the slower of
        // the two instead of their sum.
        var current = new BlockBuffer();
        var next = new BlockBuffer();
        // A file is read through its handle, all of a buffer's blocks with one preadv: a read per block costs a system
        // call and a thread-pool hop each (the writer alone ran 20 % slower so).
        var file = source is FileStream { CanSeek: true } fileStream ? fileStream.SafeFileHandle : null;
        var fileOffset = file is null ? 0 : source.Position;
        Task<int>? pending = null;
        try
        {
            var read = await FillAsync(source, file, fileOffset, current, cancellationToken);
            while (read > 0)
            {
                fileOffset += read;
                // A buffer not filled up means the end of the source: no read is left to start.
                pending = read == BlockBuffer.Capacity ? FillAsync(source, file, fileOffset, next, cancellationToken) : Task.FromResult(0);
                var framed = current.Frame(read, crc);
                await WriteAsync(current.Bytes.AsMemory(0, framed), cancellationToken);
                size += read;
                compressed += framed;
                read = await pending;
                pending = null;
                (current, next) = (next, current);
            }
            if (file is not null)
            {
                // Read through its handle: the stream is left where the reads ended, as its own reads would have.
                source.Position = fileOffset;
            }
        }
        finally
        {
            if (pending is not null)
            {
                // A failed write must not hand a buffer back to the pool while a read still fills it.
                try { await pending; } catch (Exception) { }
            }
            current.Dispose();
            next.Dispose();
        }
        compressed += FinalBlock.Length;

        // Java reads 8-byte sizes past 0xFFFFFFFF whatever the header said: a source of unknown length may get there too.
        var zip64Descriptor = zip64 || compressed > uint.MaxValue;
        var crcValue = crc.GetCurrentHashAsUInt32();
        var trailer = new byte[FinalBlock.Length + (zip64Descriptor ? 24 : 16)];
        FinalBlock.CopyTo(trailer);
        var descriptor = trailer.AsSpan(FinalBlock.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074b50);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor[4..], crcValue);
        if (zip64Descriptor)
        {
            BinaryPrimitives.WriteInt64LittleEndian(descriptor[8..], compressed);
            BinaryPrimitives.WriteInt64LittleEndian(descriptor[16..], size);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[8..], (uint)compressed);
            BinaryPrimitives.WriteUInt32LittleEndian(descriptor[12..], (uint)size);
        }
        await WriteAsync(trailer, cancellationToken);
        entries.Add(new Entry(nameBytes, crcValue, size, compressed, offset, time, date));
        return size;
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/>'s blocks, every block full but at the end of the source (so an entry's
    /// compressed size depends on its size only); returns the data bytes read.
    /// </summary>
    private static async Task<int> FillAsync(Stream source, SafeFileHandle? file, long fileOffset, BlockBuffer buffer, CancellationToken cancellationToken)
    {
        var total = file is null ? 0 : (int)await RandomAccess.ReadAsync(file, buffer.Blocks, fileOffset, cancellationToken);
        while (total < BlockBuffer.Capacity)
        {
            var free = buffer.Blocks[total / MaxBlock][(total % MaxBlock)..];
            var read = file is null
                ? await source.ReadAsync(free, cancellationToken)
                : await RandomAccess.ReadAsync(file, free, fileOffset + total, cancellationToken);
            if (read == 0)
            {
                break;
            }
            total += read;
        }
        return total;
    }

    /// <summary>A pooled buffer laid out as stored deflate blocks: 5 bytes of header, then the block's data.</summary>
    private sealed class BlockBuffer : IDisposable
    {
        // 7 × 65 540 bytes: as much as fits the pool's 512 KiB arrays (4 blocks would take one as well).
        private const int BlockCount = 7;
        public const int Capacity = BlockCount * MaxBlock;

        public byte[] Bytes { get; } = ArrayPool<byte>.Shared.Rent(BlockCount * BlockStride);

        /// <summary>Where each block's data goes.</summary>
        public Memory<byte>[] Blocks { get; }

        public BlockBuffer() => Blocks = [.. Enumerable.Range(0, BlockCount).Select(i => Bytes.AsMemory(i * BlockStride + BlockHeader, MaxBlock))];

        /// <summary>Writes the headers in front of <paramref name="read"/> data bytes and hashes them; returns the framed length.</summary>
        public int Frame(int read, Crc32 crc)
        {
            var end = 0;
            for (var offset = 0; read > 0; offset += BlockStride)
            {
                var length = Math.Min(read, MaxBlock);
                var block = Bytes.AsSpan(offset, BlockHeader + length);
                block[0] = 0x00; // BFINAL = 0, BTYPE = 00: stored
                BinaryPrimitives.WriteUInt16LittleEndian(block[1..], (ushort)length);
                BinaryPrimitives.WriteUInt16LittleEndian(block[3..], (ushort)~length);
                crc.Append(block[BlockHeader..]);
                read -= length;
                end = offset + block.Length;
            }
            return end;
        }

        public void Dispose() => ArrayPool<byte>.Shared.Return(Bytes);
    }

    /// <summary>Writes the central directory and the ZIP64 end records; the archive is complete afterwards.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        var directoryStart = position;
        foreach (var entry in entries)
        {
            var record = new byte[46 + entry.Name.Length + 28];
            var span = record.AsSpan();
            BinaryPrimitives.WriteUInt32LittleEndian(span, 0x02014b50);
            BinaryPrimitives.WriteUInt16LittleEndian(span[4..], 0x0300 | Zip64Version); // made by Unix, 4.5
            BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Zip64Version);
            BinaryPrimitives.WriteUInt16LittleEndian(span[8..], Flags);
            BinaryPrimitives.WriteUInt16LittleEndian(span[10..], Deflated);
            BinaryPrimitives.WriteUInt16LittleEndian(span[12..], entry.DosTime);
            BinaryPrimitives.WriteUInt16LittleEndian(span[14..], entry.DosDate);
            BinaryPrimitives.WriteUInt32LittleEndian(span[16..], entry.Crc);
            BinaryPrimitives.WriteUInt32LittleEndian(span[20..], uint.MaxValue);
            BinaryPrimitives.WriteUInt32LittleEndian(span[24..], uint.MaxValue);
            BinaryPrimitives.WriteUInt16LittleEndian(span[28..], (ushort)entry.Name.Length);
            BinaryPrimitives.WriteUInt16LittleEndian(span[30..], 28);
            BinaryPrimitives.WriteUInt16LittleEndian(span[32..], 0); // comment
            BinaryPrimitives.WriteUInt16LittleEndian(span[34..], 0); // disk
            BinaryPrimitives.WriteUInt16LittleEndian(span[36..], 0); // internal attributes
            BinaryPrimitives.WriteUInt32LittleEndian(span[38..], 0x81A40000); // -rw-r--r--
            BinaryPrimitives.WriteUInt32LittleEndian(span[42..], uint.MaxValue);
            entry.Name.CopyTo(span[46..]);
            var extra = span[(46 + entry.Name.Length)..];
            BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
            BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 24);
            BinaryPrimitives.WriteInt64LittleEndian(extra[4..], entry.Size);
            BinaryPrimitives.WriteInt64LittleEndian(extra[12..], entry.CompressedSize);
            BinaryPrimitives.WriteInt64LittleEndian(extra[20..], entry.Offset);
            await WriteAsync(record, cancellationToken);
        }
        var directorySize = position - directoryStart;
        var zip64End = position;

        var end = new byte[56 + 20 + 22];
        var s = end.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, 0x06064b50);
        BinaryPrimitives.WriteInt64LittleEndian(s[4..], 44);
        BinaryPrimitives.WriteUInt16LittleEndian(s[12..], 0x0300 | Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(s[14..], Zip64Version);
        BinaryPrimitives.WriteUInt32LittleEndian(s[16..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(s[20..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(s[24..], entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(s[32..], entries.Count);
        BinaryPrimitives.WriteInt64LittleEndian(s[40..], directorySize);
        BinaryPrimitives.WriteInt64LittleEndian(s[48..], directoryStart);
        var locator = s[56..];
        BinaryPrimitives.WriteUInt32LittleEndian(locator, 0x07064b50);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[4..], 0);
        BinaryPrimitives.WriteInt64LittleEndian(locator[8..], zip64End);
        BinaryPrimitives.WriteUInt32LittleEndian(locator[16..], 1);
        var classic = s[76..];
        BinaryPrimitives.WriteUInt32LittleEndian(classic, 0x06054b50);
        BinaryPrimitives.WriteUInt16LittleEndian(classic[8..], ushort.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(classic[10..], ushort.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(classic[12..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(classic[16..], uint.MaxValue);
        await WriteAsync(end, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    private async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await output.WriteAsync(bytes, cancellationToken);
        position += bytes.Length;
    }

    private static (ushort Time, ushort Date) DosDateTime(DateTime value)
    {
        if (value.Year < 1980)
        {
            value = new DateTime(1980, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        }
        var time = (ushort)((value.Hour << 11) | (value.Minute << 5) | (value.Second / 2));
        var date = (ushort)(((value.Year - 1980) << 9) | (value.Month << 5) | value.Day);
        return (time, date);
    }
}
