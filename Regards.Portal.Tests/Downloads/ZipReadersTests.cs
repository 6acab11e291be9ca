using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using Regards.Portal.Downloads;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// Archives of <see cref="ZipStreamWriter"/> read by real readers: the streaming ones from a pipe, as the writer
/// produces them (Java's ZipInputStream, what REGARDS' clients use; bsdtar; a Python streaming reader), and the
/// random-access ones from the saved file (Java's ZipFile, Python's zipfile, unzip, 7-Zip, .NET's ZipArchive).
/// </summary>
public sealed class ZipReadersTests : IDisposable
{
    /// <summary>The Java and Python readers, copied next to the tests; both print <see cref="ReaderLine"/>s.</summary>
    internal static readonly string JavaReader = Path.Combine(AppContext.BaseDirectory, "Downloads", "Readers", "ZipEntries.java");
    internal static readonly string PythonReader = Path.Combine(AppContext.BaseDirectory, "Downloads", "Readers", "zip_entries.py");

    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", "zip-" + Guid.NewGuid().ToString("N"));
    private readonly List<(string Name, byte[] Content, Func<Stream> Open)> entries = [];

    public ZipReadersTests()
    {
        Directory.CreateDirectory(folder);
        var random = new Random(20261201);
        byte[] Bytes(int count)
        {
            var bytes = new byte[count];
            random.NextBytes(bytes);
            return bytes;
        }
        // Files are read as the storage opens them; the sizes sit on either side of a 65 535-byte block and of a
        // 7-block read buffer (458 745 bytes).
        AddFile("empty.dat", []);
        AddFile("one-byte.txt", "x"u8.ToArray());
        AddFile("block-65535.bin", Bytes(65_535));
        AddFile("block-65536.bin", Bytes(65_536));
        AddFile("buffer-458745.bin", Bytes(458_745));
        AddFile("random-3MB.bin", Bytes(3 * 1024 * 1024 + 12_345));
        var accented = Encoding.UTF8.GetBytes("Données d'été, à vérifier : ça marche.\n");
        entries.Add(("Données d'été/relevé ça-à-vérifier.txt", accented, () => new MemoryStream(accented)));
        // A source of unknown length that hands its bytes out in short reads.
        var trickled = Bytes(1_000_003);
        entries.Add(("trickled.bin", trickled, () => new TrickleStream(trickled, 10_000)));
    }

    private void AddFile(string name, byte[] content)
    {
        var path = Path.Combine(folder, "source-" + entries.Count);
        File.WriteAllBytes(path, content);
        entries.Add((name, content, () => new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0, FileOptions.Asynchronous | FileOptions.SequentialScan)));
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    /// <summary>Stored deflate blocks: 5 bytes of header per 65 535 data bytes or fewer, and an empty 5-byte final block.</summary>
    internal static long DeflatedSize(long size) => size + 5 * ((size + 65_534) / 65_535) + 5;

    internal static string Crc(byte[] content) => Crc32.HashToUInt32(content).ToString("x8", CultureInfo.InvariantCulture);

    /// <summary>Name, declared size, compressed size and CRC-32, then bytes read and their CRC-32: what the readers print.</summary>
    internal static string ReaderLine(string name, long size, string crc) =>
        string.Join('\t', name, size, DeflatedSize(size), crc, size, crc);

    private List<string> Expected() => [.. entries.Select(e => ReaderLine(e.Name, e.Content.Length, Crc(e.Content)))];

    internal static List<string> Lines(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries)];

    private async Task WriteArchiveAsync(Stream output)
    {
        var zip = new ZipStreamWriter(output);
        foreach (var (name, _, open) in entries)
        {
            await using var source = open();
            await zip.AddEntryAsync(name, source, new DateTime(2026, 12, 1, 10, 30, 0, DateTimeKind.Utc), CancellationToken.None);
        }
        await zip.FinishAsync(CancellationToken.None);
    }

    private async Task<string> SaveArchiveAsync()
    {
        var path = Path.Combine(folder, "archive.zip");
        await using (var file = File.Create(path))
        {
            await WriteArchiveAsync(file);
        }
        return path;
    }

    [Fact]
    public async Task Java_ZipInputStream_reads_every_entry_from_a_pipe()
    {
        var (code, output, errors) = await Tools.RunReaderAsync("java", $"{JavaReader} -", WriteArchiveAsync);
        Assert.True(code == 0, errors);
        Assert.Equal(Expected(), Lines(output));
    }

    [Fact]
    public async Task Java_ZipFile_reads_every_entry_through_the_central_directory()
    {
        var (code, output) = await Tools.RunAsync("java", $"{JavaReader} {await SaveArchiveAsync()}");
        Assert.True(code == 0, output);
        Assert.Equal(Expected(), Lines(output));
    }

    [Fact]
    public async Task A_python_streaming_reader_inflates_every_entry_from_a_pipe_up_to_its_descriptor()
    {
        var (code, output, errors) = await Tools.RunReaderAsync("python3", $"{PythonReader} -", WriteArchiveAsync);
        Assert.True(code == 0, errors);
        Assert.Equal(Expected(), Lines(output));
    }

    [Fact]
    public async Task Python_zipfile_reads_every_entry_through_the_central_directory()
    {
        var (code, output) = await Tools.RunAsync("python3", $"{PythonReader} {await SaveArchiveAsync()}");
        Assert.True(code == 0, output);
        Assert.Equal(Expected(), Lines(output));
    }

    [Fact]
    public async Task Bsdtar_extracts_every_entry_from_a_pipe()
    {
        var target = Path.Combine(folder, "bsdtar");
        Directory.CreateDirectory(target);
        var (code, output, errors) = await Tools.RunReaderAsync("bsdtar", $"-xf - -C {target}", WriteArchiveAsync);
        Assert.True(code == 0 && errors.Length == 0, errors + output);
        foreach (var (name, content, _) in entries)
        {
            Assert.Equal(content, await File.ReadAllBytesAsync(Path.Combine(target, name)));
        }
        Assert.Equal(entries.Count, Directory.GetFiles(target, "*", SearchOption.AllDirectories).Length);
    }

    [Fact]
    public async Task Unzip_tests_every_entry()
    {
        var path = await SaveArchiveAsync();
        var (code, output, errors) = await Tools.RunReaderAsync("unzip", $"-t {path}");
        Assert.True(code == 0, output + errors);
        Assert.Contains("No errors detected", output);
        Assert.All(entries, e => Assert.Contains($"testing: {e.Name} ", output));
    }

    [Fact]
    public async Task SevenZip_tests_every_entry_and_lists_the_central_directory_sizes_and_crcs()
    {
        var path = await SaveArchiveAsync();
        var (code, output, errors) = await Tools.RunReaderAsync("7zz", $"t {path}");
        Assert.True(code == 0, output + errors);
        Assert.Contains("Everything is Ok", output);

        (code, output, errors) = await Tools.RunReaderAsync("7zz", $"l -slt {path}");
        Assert.True(code == 0, output + errors);
        // One "Path = ..." block per entry after the archive's own block.
        var listed = output.Split("\nPath = ").Skip(2).Select(block =>
        {
            var fields = block.Split('\n').Skip(1).Select(l => l.Split(" = ", 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1].Trim());
            return string.Join('\t', block.Split('\n')[0].Trim(), fields["Size"], fields["Packed Size"], fields["CRC"].ToLowerInvariant(), fields["Method"]);
        });
        Assert.Equal(entries.Select(e => string.Join('\t', e.Name, e.Content.Length, DeflatedSize(e.Content.Length), Crc(e.Content), "Deflate")), listed);
    }

    [Fact]
    public async Task DotNet_ZipArchive_reads_every_entry()
    {
        await using var file = File.OpenRead(await SaveArchiveAsync());
        await using var archive = await ZipArchive.CreateAsync(file, ZipArchiveMode.Read, leaveOpen: false, entryNameEncoding: null);
        var read = new List<string>();
        foreach (var entry in archive.Entries)
        {
            await using var stream = await entry.OpenAsync();
            using var content = new MemoryStream();
            await stream.CopyToAsync(content);
            read.Add(string.Join('\t', entry.FullName, entry.Length, entry.CompressedLength, entry.Crc32.ToString("x8", CultureInfo.InvariantCulture), content.Length, Crc(content.ToArray())));
        }
        Assert.Equal(Expected(), read);
    }

    /// <summary>A stream of unknown length that returns at most <paramref name="maxRead"/> bytes per read.</summary>
    private sealed class TrickleStream(byte[] content, int maxRead) : Stream
    {
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(Math.Min(buffer.Length, maxRead), content.Length - position);
            content.AsSpan(position, count).CopyTo(buffer);
            position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
