using System.Globalization;
using System.Text;
using System.Xml;
using Regards.Portal.Downloads;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// The metalink writer writes its markup as bytes: its documents must be, byte for byte, what an indenting XmlWriter
/// writes of the same entries (the document the REGARDS Downloader, aria2 and the xsd tests were checked against),
/// whatever the values hold: markup characters, new lines, non-ASCII, surrogate pairs, characters XML refuses.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class MetalinkWriterTests
{
    private static readonly DateTime Published = new(2026, 3, 4, 5, 6, 7, DateTimeKind.Utc);

    private static MetalinkEntry Entry(string name, string url = "http://portal.example/api/orders/public/files/1?orderToken=abc", string? mime = "application/x-netcdf",
        string? sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", string? md5 = "098f6bcd4621d373cade4e832627b4f6", long size = 1234) =>
        new(name, size, mime, sha256, md5, url);

    /// <summary>Values that need every kind of care, in every field a value goes to.</summary>
    public static TheoryData<string> Hostile() =>
    [
        "plain.nc", "", "a&b<c>d\"e'f.nc", "]]>", "tab\there", "line\nfeed", "cr\rlone", "crlf\r\nend", "\r\n\r\r\n\n",
        "été_été.nc", "日本語.nc", "emoji 😀 pair", "nel\u0085 ls\u2028 del\u007f", "&amp;", "?orderToken=x&notReady=503",
        new string('x', 100_000) + "&", "  spaced  ",
    ];

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_value_is_written_as_the_XmlWriter_wrote_it(string value)
    {
        foreach (var format in Enum.GetValues<MetalinkFormat>())
        {
            MetalinkEntry[] entries =
            [
                Entry(value), Entry("n.nc", url: value), Entry("m.nc", mime: value), Entry("h.nc", sha256: value, md5: value),
                Entry("https.nc", url: "https://x/" + value), Entry("ftp.nc", url: "FTP://x/" + value),
            ];
            Assert.Equal(Reference(format, entries), await WriteAsync(format, entries));
        }
    }

    [Fact]
    public async Task Missing_hashes_mime_types_and_urls_and_any_size_are_written_as_the_XmlWriter_wrote_them()
    {
        MetalinkEntry[] entries =
        [
            Entry("a", sha256: null, md5: null), Entry("b", sha256: "", md5: "x"), Entry("c", sha256: "y", md5: null), Entry("d", mime: null),
            Entry("e", mime: ""), Entry("f", url: ""), Entry("g", size: 0), Entry("h", size: long.MaxValue), Entry("i", size: -1),
        ];
        foreach (var format in Enum.GetValues<MetalinkFormat>())
        {
            Assert.Equal(Reference(format, entries), await WriteAsync(format, entries));
        }
    }

    /// <summary>Many files cross many chunks; random values from an alphabet of the characters that need care.</summary>
    [Fact]
    public async Task Thousands_of_random_files_are_written_as_the_XmlWriter_wrote_them()
    {
        const string alphabet = "ab.Z09-_/ &<>\"'\t\n\r\u00e9\u65e5\u0085\u2028\ud83d\ude00=?%";
        var random = new Random(18);
        string Value(int max) => new(Enumerable.Range(0, random.Next(max)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());
        var entries = Enumerable.Range(0, 5_000).Select(i =>
            // A surrogate pair is two characters of the alphabet: drawn alone, one half would be refused (tested below).
            new MetalinkEntry(Whole(Value(40)), random.NextInt64(-1, long.MaxValue), Whole(Value(3)), Whole(Value(70)), Whole(Value(40)), Whole(Value(200)))).ToList();
        foreach (var format in Enum.GetValues<MetalinkFormat>())
        {
            Assert.Equal(Reference(format, entries), await WriteAsync(format, entries));
        }
    }

    private static string Whole(string value) =>
        new(value.Where((c, i) => !char.IsSurrogate(c) || (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            || (char.IsLowSurrogate(c) && i > 0 && char.IsHighSurrogate(value[i - 1]))).ToArray());

    /// <summary>A fact, not a theory: xunit's serialisation of theory data turns a lone surrogate into U+FFFD.</summary>
    [Fact]
    public async Task A_character_XML_cannot_carry_is_refused_as_the_XmlWriter_refused_it()
    {
        string[] values = ["nul\0", "bell\u0007", "vt\u000b", "lone \ud83d high", "lone \ude00 low", "high at the end \ud83d", "two highs \ud83d\ud83d\ude00", "nonchar\ufffe", "nonchar\uffff"];
        foreach (var (value, format) in values.SelectMany(v => Enum.GetValues<MetalinkFormat>().Select(f => (v, f))))
        {
            foreach (var entry in new[] { Entry(value), Entry("u", url: value), Entry("h", md5: value) })
            {
                Assert.ThrowsAny<ArgumentException>(() => Reference(format, [entry]));
                await Assert.ThrowsAnyAsync<ArgumentException>(() => WriteAsync(format, [entry]));
            }
        }
    }

    private static async Task<string> WriteAsync(MetalinkFormat format, IReadOnlyList<MetalinkEntry> entries)
    {
        using var output = new MemoryStream();
        var writer = new MetalinkWriter(output, format, Published);
        await writer.StartAsync(CancellationToken.None);
        foreach (var entry in entries)
        {
            await writer.WriteFileAsync(entry, CancellationToken.None);
        }
        await writer.EndAsync(CancellationToken.None);
        return Encoding.UTF8.GetString(output.ToArray());
    }

    /// <summary>The document as the portal wrote it with an XmlWriter until the writer wrote bytes itself.</summary>
    private static string Reference(MetalinkFormat format, IReadOnlyList<MetalinkEntry> entries)
    {
        var ns = format == MetalinkFormat.V4 ? MetalinkWriter.V4Namespace : MetalinkWriter.V3Namespace;
        using var output = new MemoryStream();
        using (var xml = XmlWriter.Create(output, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true, NewLineChars = "\n" }))
        {
            void Hash(string type, string? value)
            {
                if (!string.IsNullOrEmpty(value))
                {
                    xml.WriteStartElement(null, "hash", ns);
                    xml.WriteAttributeString(null, "type", null, type);
                    xml.WriteString(value);
                    xml.WriteEndElement();
                }
            }
            xml.WriteStartDocument();
            xml.WriteStartElement(null, "metalink", ns);
            if (format == MetalinkFormat.V4)
            {
                xml.WriteElementString(null, "generator", ns, "Regards.Portal");
                xml.WriteElementString(null, "published", ns, Published.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            }
            else
            {
                xml.WriteAttributeString(null, "version", null, "3.0");
                xml.WriteAttributeString(null, "type", null, "static");
                xml.WriteAttributeString(null, "generator", null, "Regards.Portal");
                xml.WriteAttributeString(null, "pubdate", null, Published.ToString("R", CultureInfo.InvariantCulture));
                xml.WriteStartElement(null, "files", ns);
            }
            foreach (var file in entries)
            {
                xml.WriteStartElement(null, "file", ns);
                xml.WriteAttributeString(null, "name", null, file.Name);
                xml.WriteElementString(null, "size", ns, file.Size.ToString(CultureInfo.InvariantCulture));
                if (format == MetalinkFormat.V4)
                {
                    Hash("sha-256", file.Sha256);
                    Hash("md5", file.Md5);
                    xml.WriteElementString(null, "url", ns, file.Url);
                }
                else
                {
                    if (!string.IsNullOrEmpty(file.MimeType))
                    {
                        xml.WriteElementString(null, "mimetype", ns, file.MimeType);
                    }
                    if (!string.IsNullOrEmpty(file.Md5) || !string.IsNullOrEmpty(file.Sha256))
                    {
                        xml.WriteStartElement(null, "verification", ns);
                        Hash("md5", file.Md5);
                        Hash("sha256", file.Sha256);
                        xml.WriteEndElement();
                    }
                    xml.WriteStartElement(null, "resources", ns);
                    xml.WriteStartElement(null, "url", ns);
                    var type = file.Url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "https" : file.Url.StartsWith("ftp:", StringComparison.OrdinalIgnoreCase) ? "ftp" : "http";
                    xml.WriteAttributeString(null, "type", null, type);
                    xml.WriteAttributeString(null, "preference", null, "100");
                    xml.WriteString(file.Url);
                    xml.WriteEndElement();
                    xml.WriteEndElement();
                }
                xml.WriteEndElement();
            }
            if (format == MetalinkFormat.V3)
            {
                xml.WriteEndElement();
            }
            xml.WriteEndElement();
            xml.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(output.ToArray());
    }
}

/// <summary>The names a metalink and a zip give files: flat, without control characters, each once.</summary>
[Trait("Tier", "Fast")]
public sealed class UniqueNamesTests
{
    [Theory]
    [InlineData("plain.nc", "plain.nc")]
    [InlineData("dir/sub\\name.nc", "name.nc")]
    [InlineData("bell\u0007 nul\0 us\u001f del\u007f nel\u0085 apc\u009f.nc", "bell nul us del nel apc.nc")]
    [InlineData("nel\u0085 apc\u009f.nc", "nel apc.nc")]
    [InlineData("  \tspaced\n ", "spaced")]
    [InlineData("kept\u00a0nbsp é 日本 😀.nc", "kept\u00a0nbsp é 日本 😀.nc")]
    [InlineData("..", "file")]
    [InlineData("a/\u0001", "file")]
    public void A_name_is_flattened_and_loses_its_control_characters(string name, string expected) =>
        Assert.Equal(expected, new UniqueNames().Next(name));

    [Fact]
    public void A_name_met_again_in_any_case_gets_a_number()
    {
        var names = new UniqueNames();
        Assert.Equal(["a.nc", "A (1).nc", "a (2).nc", "b"], new[] { "a.nc", "A.nc", "x/a.nc", "b" }.Select(names.Next));
    }
}
