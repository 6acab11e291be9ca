using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;
using Regards.Portal.Processing;
using Regards.Portal.Processing.Processings;

namespace Regards.Portal.Tests.Processing;

/// <summary>Each processing's outputs checked byte for byte on known inputs; parameters and splitting rules.</summary>
[Trait("Tier", "Fast")]
public sealed class ProcessingsTests
{
    private static readonly byte[] Lines = Encoding.UTF8.GetBytes("line 1\nline 2\r\nline 3\nline 4\nlast line without newline");

    private static async Task<(ProcessingExecution Execution, Dictionary<string, byte[]> Files)> RunAsync(
        IProcessing processing, IReadOnlyDictionary<string, string> parameters, params (string Name, byte[] Bytes)[] inputs)
    {
        var streams = new Dictionary<string, MemoryStream>();
        var execution = new ProcessingExecution(
            inputs.Select((input, i) => new ProcessingInput(i + 1, $"OBJ-{i}", input.Name, input.Bytes.Length, DataType.RawData, () => new MemoryStream(input.Bytes, writable: false))).ToList(),
            ProcessingCatalog.ResolveParameters(processing, parameters),
            name =>
            {
                var stream = new MemoryStream();
                streams[name] = stream;
                return (stream, "mem:" + name);
            });
        await processing.ExecuteAsync(execution, CancellationToken.None);
        return (execution, streams.ToDictionary(s => s.Key, s => s.Value.ToArray()));
    }

    private static Dictionary<string, string> P(params (string Key, string Value)[] values) => values.ToDictionary(v => v.Key, v => v.Value);

    [Theory]
    [InlineData("fastest")]
    [InlineData("optimal")]
    [InlineData("smallest")]
    public async Task Compress_writes_one_gzip_per_input_that_inflates_to_the_input(string level)
    {
        var random = RandomNumberGenerator.GetBytes(200_000);
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("sea surface height ", 10_000)));
        var (execution, files) = await RunAsync(new CompressProcessing(), P(("level", level)), ("a.nc", random), ("b.txt", text), ("empty.dat", []));

        Assert.Equal(["a.nc.gz", "b.txt.gz", "empty.dat.gz"], files.Keys.Order());
        Assert.Equal(random, Inflate(files["a.nc.gz"]));
        Assert.Equal(text, Inflate(files["b.txt.gz"]));
        Assert.Empty(Inflate(files["empty.dat.gz"]));
        Assert.True(files["b.txt.gz"].Length < text.Length / 20, "repetitive text compresses");
        Assert.Equal([0x1f, 0x8b], files["a.nc.gz"][..2]); // RFC 1952 magic
        // Every recorded output carries the size, SHA-256 and MD5 of the bytes written and the object of its input.
        foreach (var output in execution.Outputs)
        {
            Assert.Equal(files[output.Name].Length, output.Size);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(files[output.Name])), output.Sha256);
            Assert.Equal(Convert.ToHexStringLower(MD5.HashData(files[output.Name])), output.Md5);
            Assert.Equal("application/gzip", output.MimeType);
        }
        Assert.Equal("OBJ-1", execution.Outputs.Single(o => o.Name == "b.txt.gz").DataObjectId);
    }

    private static byte[] Inflate(byte[] gzip)
    {
        using var input = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task Checksum_manifest_lists_every_input_in_sha256sum_format()
    {
        var (_, files) = await RunAsync(new ChecksumManifestProcessing(), P(), ("b.nc", "hello"u8.ToArray()), ("a.nc", []));
        var manifest = Encoding.UTF8.GetString(Assert.Single(files, f => f.Key == "manifest.sha256").Value);
        Assert.Equal(
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.nc\n" +
            "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824  b.nc\n", manifest);
    }

    [Fact]
    public async Task Checksum_manifest_as_csv_quotes_names_and_gives_sizes()
    {
        var (_, files) = await RunAsync(new ChecksumManifestProcessing(), P(("format", "csv")), ("x,\"y\".nc", "hello"u8.ToArray()));
        Assert.Equal(
            "name,size,sha256\n\"x,\"\"y\"\".nc\",5,2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n",
            Encoding.UTF8.GetString(files["manifest.csv"]));
    }

    [Fact]
    public async Task Subset_of_bytes_keeps_from_inclusive_to_exclusive_and_stops_at_the_end()
    {
        var bytes = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var (_, files) = await RunAsync(new SubsetProcessing(), P(("unit", "bytes"), ("from", "10"), ("to", "20")), ("seq.bin", bytes), ("short.bin", bytes[..15]), ("tiny.bin", bytes[..5]));
        Assert.Equal(bytes[10..20], files["seq.subset.bin"]);
        Assert.Equal(bytes[10..15], files["short.subset.bin"]);
        Assert.Empty(files["tiny.subset.bin"]);
    }

    [Theory]
    [InlineData(2, 3, "line 2\r\nline 3\n")]
    [InlineData(1, 1, "line 1\n")]
    [InlineData(4, 99, "line 4\nlast line without newline")]
    [InlineData(6, 9, "")]
    public async Task Subset_of_lines_keeps_lines_from_to_inclusive_with_their_endings(int from, int to, string expected)
    {
        var (_, files) = await RunAsync(new SubsetProcessing(), P(("unit", "lines"), ("from", $"{from}"), ("to", $"{to}")), ("data.txt", Lines));
        Assert.Equal(expected, Encoding.UTF8.GetString(files["data.subset.txt"]));
    }

    [Fact]
    public async Task Subset_of_lines_spanning_read_buffers_is_exact()
    {
        var text = string.Concat(Enumerable.Range(1, 50_000).Select(i => $"row {i}\n"));
        var (_, files) = await RunAsync(new SubsetProcessing(), P(("unit", "lines"), ("from", "12345"), ("to", "40000")), ("big.txt", Encoding.UTF8.GetBytes(text)));
        Assert.Equal(string.Concat(Enumerable.Range(12345, 40000 - 12345 + 1).Select(i => $"row {i}\n")), Encoding.UTF8.GetString(files["big.subset.txt"]));
    }

    [Fact]
    public async Task Subset_refuses_to_lower_than_from()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => RunAsync(new SubsetProcessing(), P(("from", "30"), ("to", "10")), ("a.bin", new byte[40])));
    }

    [Theory]
    [InlineData("level", "ultra", "must be one of fastest, optimal, smallest")]
    [InlineData("speed", "1", "Unknown parameter")]
    public void Compress_parameters_are_checked(string name, string value, string message)
    {
        var e = Assert.Throws<PortalException>(() => ProcessingCatalog.ResolveParameters(new CompressProcessing(), P((name, value))));
        Assert.Equal("BAD_PROCESSING_PARAMETER", e.Code);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData("from", "abc", "must be an integer")]
    [InlineData("from", "-1", "must be between 0")]
    [InlineData("to", "0", "must be between 1")]
    public void Integer_parameters_are_checked(string name, string value, string message)
    {
        var e = Assert.Throws<PortalException>(() => ProcessingCatalog.ResolveParameters(new SubsetProcessing(), P((name, value))));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Defaults_fill_missing_parameters()
    {
        Assert.Equal(P(("unit", "bytes"), ("from", "0"), ("to", "1024")), ProcessingCatalog.ResolveParameters(new SubsetProcessing(), P(("to", " "))));
    }

    [Fact]
    public void Splitter_respects_the_byte_limit_and_the_sub_order_limits()
    {
        var split = new ProcessingSplitter(new SubsetProcessing(), maxFilesPerSubOrder: 3, maxBytesPerSubOrder: long.MaxValue);
        var starts = new List<bool>();
        foreach (var size in new long[] { 1, 1, 1, 1, 1L << 30, 5 })
        {
            var startsNew = split.NeedsNewSubOrder(size, newObject: true);
            split.Add(size, true, startsNew);
            starts.Add(startsNew);
        }
        // 3 files max per sub-order, then 1 GiB per execution.
        Assert.Equal([true, false, false, true, true, true], starts);
    }

    [Fact]
    public void Splitter_never_splits_a_processing_that_forbids_it()
    {
        var split = new ProcessingSplitter(new ChecksumManifestProcessing(), maxFilesPerSubOrder: 2, maxBytesPerSubOrder: 10);
        Assert.True(split.NeedsNewSubOrder(5, true));
        split.Add(5, true, true);
        for (var i = 0; i < 20; i++)
        {
            Assert.False(split.NeedsNewSubOrder(5, true));
            split.Add(5, true, false);
        }
    }

    [Fact]
    public void Splitter_keeps_the_files_of_an_object_together_for_one_output_per_object()
    {
        var split = new ProcessingSplitter(new TestProcessing(ProcessingCardinality.OnePerObject, new(ProcessingSizeLimitType.Objects, 2)), 1000, long.MaxValue);
        var objects = new[] { 3, 1, 2, 1 }; // files per object
        var starts = new List<bool>();
        foreach (var count in objects)
        {
            for (var f = 0; f < count; f++)
            {
                var startsNew = split.NeedsNewSubOrder(1, f == 0);
                split.Add(1, f == 0, startsNew);
                starts.Add(startsNew);
            }
        }
        // objects 1+2 | 3+4: never inside an object.
        Assert.Equal([true, false, false, false, true, false, false], starts);
    }

    private sealed class TestProcessing(ProcessingCardinality cardinality, ProcessingSizeLimit limit) : IProcessing
    {
        public string BusinessId => "test";
        public string Label(string lang) => "test";
        public string Description(string lang) => "test";
        public IReadOnlyList<ProcessingParameter> Parameters => [];
        public IReadOnlyList<DataType> RequiredDataTypes => [DataType.RawData];
        public ProcessingSizeLimit SizeLimit => limit;
        public ProcessingCardinality Cardinality => cardinality;
        public bool ForbidSplitInSuborders => false;
        public Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
