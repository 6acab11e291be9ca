using System.Globalization;
using System.Text;
using System.Xml;

namespace Regards.Portal.Downloads;

public enum MetalinkFormat
{
    /// <summary>RFC 5854, <c>application/metalink4+xml</c>.</summary>
    V4,

    /// <summary>Metalink 3.0 (metalinker.org), the document REGARDS clients read.</summary>
    V3,
}

/// <summary>Writes a metalink document file by file to a stream (async XmlWriter, flushed as it goes).</summary>
public sealed class MetalinkWriter(Stream output, MetalinkFormat format, DateTime published)
{
    public const string V4Namespace = "urn:ietf:params:xml:ns:metalink";
    public const string V3Namespace = "http://www.metalinker.org/";

    private readonly XmlWriter xml = XmlWriter.Create(output, new XmlWriterSettings
    {
        Async = true, Encoding = new UTF8Encoding(false), Indent = true, CloseOutput = false,
    });
    private int written;

    public static string ContentType(MetalinkFormat format) => format == MetalinkFormat.V4 ? "application/metalink4+xml" : "application/metalink+xml";

    public static string Extension(MetalinkFormat format) => format == MetalinkFormat.V4 ? ".meta4" : ".metalink";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await xml.WriteStartDocumentAsync();
        if (format == MetalinkFormat.V4)
        {
            await xml.WriteStartElementAsync(null, "metalink", V4Namespace);
            await xml.WriteElementStringAsync(null, "generator", V4Namespace, "Regards.Portal");
            await xml.WriteElementStringAsync(null, "published", V4Namespace, published.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
        else
        {
            await xml.WriteStartElementAsync(null, "metalink", V3Namespace);
            await xml.WriteAttributeStringAsync(null, "version", null, "3.0");
            await xml.WriteAttributeStringAsync(null, "generator", null, "Regards.Portal");
            await xml.WriteAttributeStringAsync(null, "pubdate", null, published.ToString("R", CultureInfo.InvariantCulture));
            await xml.WriteStartElementAsync(null, "files", V3Namespace);
        }
    }

    public async Task WriteFileAsync(string name, long size, string? sha256, string url, CancellationToken cancellationToken)
    {
        var ns = format == MetalinkFormat.V4 ? V4Namespace : V3Namespace;
        await xml.WriteStartElementAsync(null, "file", ns);
        await xml.WriteAttributeStringAsync(null, "name", null, name);
        await xml.WriteElementStringAsync(null, "size", ns, size.ToString(CultureInfo.InvariantCulture));
        if (format == MetalinkFormat.V4)
        {
            if (!string.IsNullOrEmpty(sha256))
            {
                await xml.WriteStartElementAsync(null, "hash", ns);
                await xml.WriteAttributeStringAsync(null, "type", null, "sha-256");
                await xml.WriteStringAsync(sha256);
                await xml.WriteEndElementAsync();
            }
            await xml.WriteElementStringAsync(null, "url", ns, url);
        }
        else
        {
            if (!string.IsNullOrEmpty(sha256))
            {
                await xml.WriteStartElementAsync(null, "verification", ns);
                await xml.WriteStartElementAsync(null, "hash", ns);
                await xml.WriteAttributeStringAsync(null, "type", null, "sha256");
                await xml.WriteStringAsync(sha256);
                await xml.WriteEndElementAsync();
                await xml.WriteEndElementAsync();
            }
            await xml.WriteStartElementAsync(null, "resources", ns);
            await xml.WriteStartElementAsync(null, "url", ns);
            await xml.WriteAttributeStringAsync(null, "type", null, url.StartsWith("https", StringComparison.OrdinalIgnoreCase) ? "https" : "http");
            await xml.WriteStringAsync(url);
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
