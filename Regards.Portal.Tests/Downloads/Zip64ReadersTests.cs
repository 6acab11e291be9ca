using System.Globalization;
using System.IO.Hashing;
using System.Text;
using Regards.Portal.Downloads;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Reliability;
using static Regards.Portal.Tests.Downloads.ZipReadersTests;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// Entries past 4 GiB, whose data descriptor needs 8-byte sizes, read by the streaming readers from a pipe. They
/// decide on those 8 bytes differently: Java's ZipInputStream from the bytes it read (JDK 17 and 21), libarchive and
/// the Python reader here from the local header's ZIP64 extra field. 8.6 GB go through three readers: the test
/// saturates the machine, so it runs alone, after the parallel tests.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class Zip64ReadersTests
{
    /// <summary>
    /// The largest entry whose compressed size fits 32 bits, then the smallest that does not, small entries around
    /// them to show every reader kept its footing; one archive, read by the three at the same time.
    /// </summary>
    [Fact]
    public async Task Streaming_readers_read_entries_on_both_sides_of_4_GiB_from_a_pipe()
    {
        const long largest32 = 4_294_639_625;
        Assert.Equal(uint.MaxValue, DeflatedSize(largest32));
        Assert.Equal(uint.MaxValue + 1L, DeflatedSize(largest32 + 1));
        var small = new[] { "first.txt", "between.txt", "last.txt" }.Select(name => (Name: name, Content: Encoding.UTF8.GetBytes($"{name}: nothing big"))).ToList();
        (string Name, long Size) edge = ("edge-32-bit.bin", largest32), big = ("past-4-GiB.bin", largest32 + 1);
        List<string> expected =
        [
            ReaderLine(small[0].Name, small[0].Content.Length, Crc(small[0].Content)),
            ReaderLine(edge.Name, edge.Size, await PatternCrcAsync(edge.Size)),
            ReaderLine(small[1].Name, small[1].Content.Length, Crc(small[1].Content)),
            ReaderLine(big.Name, big.Size, await PatternCrcAsync(big.Size)),
            ReaderLine(small[2].Name, small[2].Content.Length, Crc(small[2].Content)),
        ];

        var results = await RunOnOneArchiveAsync(async output =>
        {
            var zip = new ZipStreamWriter(output);
            var now = DateTime.UtcNow;
            await zip.AddEntryAsync(small[0].Name, new MemoryStream(small[0].Content), now, CancellationToken.None);
            await zip.AddEntryAsync(edge.Name, new PatternStream(edge.Size), now, CancellationToken.None);
            await zip.AddEntryAsync(small[1].Name, new MemoryStream(small[1].Content), now, CancellationToken.None);
            await zip.AddEntryAsync(big.Name, new PatternStream(big.Size), now, CancellationToken.None);
            await zip.AddEntryAsync(small[2].Name, new MemoryStream(small[2].Content), now, CancellationToken.None);
            await zip.FinishAsync(CancellationToken.None);
        }, ("java", $"{JavaReader} -"), ("python3", $"{PythonReader} -"), ("sh", "-c \"bsdtar -xvOf - 2>&1 > /dev/null\""));

        Assert.True(results[0].Code == 0, "Java: " + results[0].Errors);
        Assert.Equal(expected, Lines(results[0].Output));
        Assert.True(results[1].Code == 0, "Python: " + results[1].Errors);
        Assert.Equal(expected, Lines(results[1].Output));
        // bsdtar checks each CRC-32 and size; -v lists what it extracted, next to any error.
        Assert.True(results[2].Code == 0, "bsdtar: " + results[2].Output + results[2].Errors);
        Assert.Equal(expected.Select(line => "x " + line.Split('\t')[0]), Lines(results[2].Output));
    }

    private static async Task<string> PatternCrcAsync(long size)
    {
        var crc = new Crc32();
        await using var pattern = new PatternStream(size);
        await crc.AppendAsync(pattern);
        return crc.GetCurrentHashAsUInt32().ToString("x8", CultureInfo.InvariantCulture);
    }

    /// <summary>Starts every reader, then writes one archive into all their inputs at once.</summary>
    private static async Task<(int Code, string Output, string Errors)[]> RunOnOneArchiveAsync(Func<Stream, Task> writeArchive, params (string File, string Arguments)[] readers)
    {
        var inputs = readers.Select(_ => new TaskCompletionSource<Stream>(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        var written = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = readers.Select((reader, i) => Tools.RunReaderAsync(reader.File, reader.Arguments, async input =>
        {
            inputs[i].SetResult(input);
            await written.Task;
        }, timeoutSeconds: 600)).ToArray();
        try
        {
            await writeArchive(new FanOutStream(await Task.WhenAll(inputs.Select(i => i.Task))));
        }
        finally
        {
            written.SetResult();
        }
        return await Task.WhenAll(runs);
    }

    /// <summary>Writes to several readers' inputs; a reader that stopped reading is left out (its own result says why).</summary>
    private sealed class FanOutStream(Stream[] targets) : Stream
    {
        private readonly List<Stream> live = [.. targets];

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var writes = live.Select(async target =>
            {
                try
                {
                    await target.WriteAsync(buffer, cancellationToken);
                    return null;
                }
                catch (IOException)
                {
                    return target;
                }
            });
            foreach (var stopped in await Task.WhenAll(writes))
            {
                if (stopped is not null)
                {
                    live.Remove(stopped);
                }
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.WhenAll(live.Select(t => t.FlushAsync(cancellationToken)));
        public override void Flush() => throw new NotSupportedException();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A seekable stream of known length repeating a 1 MiB random pattern, for entries too big to keep.</summary>
    private sealed class PatternStream(long length) : Stream
    {
        private static readonly byte[] Pattern = RandomPattern();
        private long position;

        private static byte[] RandomPattern()
        {
            var pattern = new byte[(1 << 20) + 1]; // odd, so the pattern never lines up with the 65 535-byte blocks
            new Random(4).NextBytes(pattern);
            return pattern;
        }

        public override bool CanRead => true;
        public override bool CanSeek => true;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => position; set => position = value; }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var total = 0;
            while (total < buffer.Length && position < length)
            {
                var start = (int)(position % Pattern.Length);
                var count = (int)Math.Min(Math.Min(buffer.Length - total, Pattern.Length - start), length - position);
                Pattern.AsSpan(start, count).CopyTo(buffer[total..]);
                total += count;
                position += count;
            }
            return total;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override long Seek(long offset, SeekOrigin origin) => position = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            _ => length + offset,
        };

        public override void Flush() { }
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
