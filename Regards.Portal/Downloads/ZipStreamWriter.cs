using System.Buffers;
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace Regards.Portal.Downloads;

/// <summary>
/// Writes a ZIP64 archive of stored (uncompressed) entries straight to a forward-only stream: each entry's CRC-32
/// and size are computed while its bytes pass and written in a data descriptor after them, so nothing is buffered
/// but one copy buffer and the central directory's small per-entry records. Every entry carries ZIP64 fields, so
/// archives and entries beyond 4 GiB need no special case; readers (unzip, 7-Zip, Python, .NET) accept it.
/// </summary>
public sealed class ZipStreamWriter(Stream output, int bufferSize = 256 * 1024)
{
    private const ushort Zip64Version = 45;
    private const ushort Flags = 0x0008 | 0x0800; // data descriptor follows; names are UTF-8

    private sealed record Entry(byte[] Name, uint Crc, long Size, long Offset, ushort DosTime, ushort DosDate);

    private readonly List<Entry> entries = [];
    private long position;

    public int EntriesCount => entries.Count;

    /// <summary>Copies <paramref name="source"/> into a new entry; returns the bytes copied.</summary>
    public async Task<long> AddEntryAsync(string name, Stream source, DateTime modified, CancellationToken cancellationToken)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var (time, date) = DosDateTime(modified);
        var offset = position;

        // Local header with ZIP64 extra field (sizes unknown yet: zero here, real ones in the descriptor).
        var header = new byte[30 + nameBytes.Length + 20];
        var span = header.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span, 0x04034b50);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Zip64Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], Flags);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], 0); // stored
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], time);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], date);
        BinaryPrimitives.WriteUInt32LittleEndian(span[14..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(span[18..], uint.MaxValue);
        BinaryPrimitives.WriteUInt32LittleEndian(span[22..], uint.MaxValue);
        BinaryPrimitives.WriteUInt16LittleEndian(span[26..], (ushort)nameBytes.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(span[28..], 20);
        nameBytes.CopyTo(span[30..]);
        var extra = span[(30 + nameBytes.Length)..];
        BinaryPrimitives.WriteUInt16LittleEndian(extra, 0x0001);
        BinaryPrimitives.WriteUInt16LittleEndian(extra[2..], 16);
        await WriteAsync(header, cancellationToken);

        var crc = new Crc32();
        long size = 0;
        // Two buffers: the next read from disk runs while the current chunk is hashed and sent, so the archive
        // streams at the pace of the slower of the two instead of their sum.
        var current = ArrayPool<byte>.Shared.Rent(bufferSize);
        var next = ArrayPool<byte>.Shared.Rent(bufferSize);
        Task<int>? pending = null;
        try
        {
            var read = await source.ReadAsync(current.AsMemory(0, bufferSize), cancellationToken);
            while (read > 0)
            {
                pending = source.ReadAsync(next.AsMemory(0, bufferSize), cancellationToken).AsTask();
                crc.Append(current.AsSpan(0, read));
                await WriteAsync(current.AsMemory(0, read), cancellationToken);
                size += read;
                read = await pending;
                pending = null;
                (current, next) = (next, current);
            }
        }
        finally
        {
            if (pending is not null)
            {
                // A failed write must not hand a buffer back to the pool while a read still fills it.
                try { await pending; } catch (Exception) { }
            }
            ArrayPool<byte>.Shared.Return(current);
            ArrayPool<byte>.Shared.Return(next);
        }

        var crcValue = crc.GetCurrentHashAsUInt32();
        var descriptor = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor, 0x08074b50);
        BinaryPrimitives.WriteUInt32LittleEndian(descriptor.AsSpan(4), crcValue);
        BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(8), size);
        BinaryPrimitives.WriteInt64LittleEndian(descriptor.AsSpan(16), size);
        await WriteAsync(descriptor, cancellationToken);
        entries.Add(new Entry(nameBytes, crcValue, size, offset, time, date));
        return size;
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
            BinaryPrimitives.WriteUInt16LittleEndian(span[10..], 0);
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
            BinaryPrimitives.WriteInt64LittleEndian(extra[12..], entry.Size);
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
