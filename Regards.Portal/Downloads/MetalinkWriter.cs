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
/// Writes a metalink document file by file to a stream (async XmlWriter, flushed as it goes).
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

    private readonly XmlWriter xml = XmlWriter.Create(output, new XmlWriterSettings
    {
        Async = true, Encoding = new UTF8Encoding(false), Indent = true, CloseOutput = false,
    });
    private readonly string ns = format == MetalinkFormat.V4 ? V4Namespace : V3Namespace;
    private int written;

    public static string ContentType(MetalinkFormat format) => format == MetalinkFormat.V4 ? "application/metalink4+xml" : "application/metalink+xml";

    public static string Extension(MetalinkFormat format) => format == MetalinkFormat.V4 ? ".meta4" : ".metalink";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await xml.WriteStartDocumentAsync();
        // Unprefixed (default namespace) in both versions: the REGARDS Downloader matches raw element names.
        await xml.WriteStartElementAsync(null, "metalink", ns);
        if (format == MetalinkFormat.V4)
        {
            await xml.WriteElementStringAsync(null, "generator", ns, "Regards.Portal");
            await xml.WriteElementStringAsync(null, "published", ns, published.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            await xml.WriteAttributeStringAsync(null, "version", null, "3.0");
            await xml.WriteAttributeStringAsync(null, "type", null, "static");
            await xml.WriteAttributeStringAsync(null, "generator", null, "Regards.Portal");
            // "R" is RFC 1123, which matches the xsd's RFC822DateTime pattern.
            await xml.WriteAttributeStringAsync(null, "pubdate", null, published.ToString("R", CultureInfo.InvariantCulture));
            await xml.WriteStartElementAsync(null, "files", ns);
        }
    }

    public async Task WriteFileAsync(MetalinkEntry file, CancellationToken cancellationToken)
    {
        await xml.WriteStartElementAsync(null, "file", ns);
        await xml.WriteAttributeStringAsync(null, "name", null, file.Name);
        await xml.WriteElementStringAsync(null, "size", ns, file.Size.ToString(CultureInfo.InvariantCulture));
        if (format == MetalinkFormat.V4)
        {
            await HashAsync("sha-256", file.Sha256);
            await HashAsync("md5", file.Md5);
            await xml.WriteElementStringAsync(null, "url", ns, file.Url);
        }
        else
        {
            if (!string.IsNullOrEmpty(file.MimeType))
            {
                await xml.WriteElementStringAsync(null, "mimetype", ns, file.MimeType);
            }
            if (!string.IsNullOrEmpty(file.Md5) || !string.IsNullOrEmpty(file.Sha256))
            {
                await xml.WriteStartElementAsync(null, "verification", ns);
                await HashAsync("md5", file.Md5);
                // "sha256", not "sha-256": the xsd's hashType enumeration has only this spelling (aria2 aliases it).
                await HashAsync("sha256", file.Sha256);
                await xml.WriteEndElementAsync();
            }
            await xml.WriteStartElementAsync(null, "resources", ns);
            await xml.WriteStartElementAsync(null, "url", ns);
            // aria2 drops a url without type; the Downloader ignores both attributes.
            await xml.WriteAttributeStringAsync(null, "type", null, UrlType(file.Url));
            await xml.WriteAttributeStringAsync(null, "preference", null, "100");
            await xml.WriteStringAsync(file.Url);
            await xml.WriteEndElementAsync();
            await xml.WriteEndElementAsync();
        }
        await xml.WriteEndElementAsync();
        if (++written % 500 == 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await xml.FlushAsync();
        }
    }

    private async Task HashAsync(string type, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }
        await xml.WriteStartElementAsync(null, "hash", ns);
        await xml.WriteAttributeStringAsync(null, "type", null, type);
        await xml.WriteStringAsync(value);
        await xml.WriteEndElementAsync();
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
            await xml.WriteEndElementAsync(); // files
        }
        await xml.WriteEndElementAsync();
        await xml.WriteEndDocumentAsync();
        await xml.FlushAsync();
        await output.FlushAsync(cancellationToken);
        await xml.DisposeAsync();
    }
}
