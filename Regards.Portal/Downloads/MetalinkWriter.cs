using System.Globalization;
using System.Text;
using System.Xml;

namespace Regards.Portal.Downloads;

public enum MetalinkFormat
{
    /// <summary>Metalink 3.0 (metalinker.org), the default: the document REGARDS writes and the REGARDS Downloader reads.</summary>
    V3,

    /// <summary>RFC 5854, <c>application/metalink4+xml</c>, on request (aria2 and other modern clients).</summary>
    V4,
}

/// <summary>One order file as a metalink lists it.</summary>
public readonly record struct MetalinkEntry(string Name, long Size, string? MimeType, string? Sha256, string? Md5, string Url);

/// <summary>
/// Writes a metalink document file by file to a stream: a synchronous XmlWriter into a chunk of about 64 KB in memory,
/// handed to the stream asynchronously each time it fills (memory flat whatever the order's size, and no task awaited
/// per element as with an async XmlWriter).
/// The v3 document validates against REGARDS' metalink.xsd and is read by both the REGARDS Downloader (a
/// non-namespace-aware SAX walk over unprefixed names, hashes md5/sha1/sha-256) and aria2 (which drops a
/// <c>url</c> without <c>type</c>): so the namespace is the default one, and each file has md5 (valid for the xsd and
/// verified by both clients, as sha1 would be, which no file carries) plus sha256 (the xsd's spelling: aria2 verifies
/// it, the Downloader ignores it).
/// </summary>
public sealed class MetalinkWriter(Stream output, MetalinkFormat format, DateTime published)
{
    public const string V4Namespace = "urn:ietf:params:xml:ns:metalink";
    public const string V3Namespace = "http://www.metalinker.org/";

    /// <summary>Bytes gathered before they go to the stream.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>Files written between two looks at the chunk: flushing the XmlWriter's own buffer after every file cost
    /// about a tenth of a 100 000-file metalink; 32 files are a few kilobytes past the chunk at most.</summary>
    private const int FilesPerFlush = 32;

    private int unflushedFiles;

    private readonly MemoryStream chunk = new(ChunkSize + 8 * 1024);
    private XmlWriter? writer;
    private readonly string ns = format == MetalinkFormat.V4 ? V4Namespace : V3Namespace;

    private XmlWriter xml => writer ??= XmlWriter.Create(chunk, new XmlWriterSettings
    {
        Encoding = new UTF8Encoding(false), Indent = true, CloseOutput = false,
    });

    /// <summary>Sends what the chunk holds once it is full (or always, at the end).</summary>
    private async Task SendAsync(bool force, CancellationToken cancellationToken)
    {
        xml.Flush();
        if (chunk.Length == 0 || (!force && chunk.Length < ChunkSize))
        {
            return;
        }
        cancellationToken.ThrowIfCancellationRequested();
        await output.WriteAsync(chunk.GetBuffer().AsMemory(0, (int)chunk.Length), cancellationToken);
        chunk.SetLength(0);
    }

    public static string ContentType(MetalinkFormat format) => format == MetalinkFormat.V4 ? "application/metalink4+xml" : "application/metalink+xml";

    public static string Extension(MetalinkFormat format) => format == MetalinkFormat.V4 ? ".meta4" : ".metalink";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        xml.WriteStartDocument();
        // Unprefixed (default namespace) in both versions: the REGARDS Downloader matches raw element names.
        xml.WriteStartElement(null, "metalink", ns);
        if (format == MetalinkFormat.V4)
        {
            xml.WriteElementString(null, "generator", ns, "Regards.Portal");
            xml.WriteElementString(null, "published", ns, published.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            xml.WriteAttributeString(null, "version", null, "3.0");
            xml.WriteAttributeString(null, "type", null, "static");
            xml.WriteAttributeString(null, "generator", null, "Regards.Portal");
            // "R" is RFC 1123, which matches the xsd's RFC822DateTime pattern.
            xml.WriteAttributeString(null, "pubdate", null, published.ToString("R", CultureInfo.InvariantCulture));
            xml.WriteStartElement(null, "files", ns);
        }
        return Task.CompletedTask;
    }

    public async Task WriteFileAsync(MetalinkEntry file, CancellationToken cancellationToken)
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
                // "sha256", not "sha-256": the xsd's hashType enumeration has only this spelling (aria2 aliases it).
                Hash("sha256", file.Sha256);
                xml.WriteEndElement();
            }
            xml.WriteStartElement(null, "resources", ns);
            xml.WriteStartElement(null, "url", ns);
            // aria2 drops a url without type; the Downloader ignores both attributes.
            xml.WriteAttributeString(null, "type", null, UrlType(file.Url));
            xml.WriteAttributeString(null, "preference", null, "100");
            xml.WriteString(file.Url);
            xml.WriteEndElement();
            xml.WriteEndElement();
        }
        xml.WriteEndElement();
        if (++unflushedFiles >= FilesPerFlush)
        {
            unflushedFiles = 0;
            await SendAsync(force: false, cancellationToken);
        }
    }

    private void Hash(string type, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }
        xml.WriteStartElement(null, "hash", ns);
        xml.WriteAttributeString(null, "type", null, type);
        xml.WriteString(value);
        xml.WriteEndElement();
    }

    /// <summary>The v3 url type (xsd enumeration ∩ what aria2 accepts); external links are http(s) or ftp.</summary>
    private static string UrlType(string url) =>
        url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "https"
        : url.StartsWith("ftp:", StringComparison.OrdinalIgnoreCase) ? "ftp"
        : "http";

    public async Task EndAsync(CancellationToken cancellationToken)
    {
        if (format == MetalinkFormat.V3)
        {
            xml.WriteEndElement(); // files
        }
        xml.WriteEndElement();
        xml.WriteEndDocument();
        await SendAsync(force: true, cancellationToken);
        await output.FlushAsync(cancellationToken);
        xml.Dispose();
    }
}
