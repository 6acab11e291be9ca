using System.Globalization;
using System.Text;
using System.Xml;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// The REGARDS Downloader's metalink reading (RegardsDownloader, MtLnk.java's MetalinkSAXHandler) redone over an
/// XmlReader, rule for rule: no namespaces (names as written, prefix included), a dotted path of those names compared
/// case-insensitively, text gathered since the previous end tag, the attributes of the last start tag, a file begun
/// on a start tag named exactly "file", the last url of a file kept (and not reset between files), and one hash
/// kept: sha-256, else sha1, else md5.
/// </summary>
internal static class RegardsDownloaderParser
{
    /// <summary>A link as the Downloader queues it: the name it saves to, the size and the hash it verifies.</summary>
    public sealed record Link(string? Name, long? Size, string? Url, string? HashType, string? Hash);

    public static List<Link> Parse(Stream document)
    {
        var links = new List<Link>();
        // Namespaces off: SAXParserFactory.newInstance() is not namespace-aware; xmlns is then a plain attribute.
        using var reader = new XmlTextReader(document)
        {
            Namespaces = false, DtdProcessing = DtdProcessing.Prohibit, EntityHandling = EntityHandling.ExpandEntities, WhitespaceHandling = WhitespaceHandling.All,
        };
        var path = "";
        var text = new StringBuilder();
        var attributes = new Dictionary<string, string>();
        string? name = null, url = null, md5 = null, sha1 = null, sha256 = null;
        long? size = null;

        void End(string qName)
        {
            var value = text.ToString().Trim();
            if (Is(path, ".metalink.files.file.size", ".metalink.file.size"))
            {
                size = long.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture); // Long.parseLong
            }
            else if (Is(path, ".metalink.files.file.verification.hash", ".metalink.file.hash"))
            {
                var type = attributes.GetValueOrDefault("type");
                if ("md5".Equals(type, StringComparison.OrdinalIgnoreCase))
                {
                    md5 = value;
                }
                else if ("sha1".Equals(type, StringComparison.OrdinalIgnoreCase))
                {
                    sha1 = value;
                }
                else if ("sha-256".Equals(type, StringComparison.OrdinalIgnoreCase))
                {
                    sha256 = value;
                }
            }
            else if (Is(path, ".metalink.files.file.resources.url", ".metalink.file.url"))
            {
                url = value;
            }
            else if (Is(path, ".metalink.files.file"))
            {
                var (hashType, hash) = sha256 is not null ? ("sha-256", sha256) : sha1 is not null ? ("sha1", sha1) : md5 is not null ? ("md5", md5) : (null, null);
                links.Add(new Link(name, size, url, hashType, hash));
            }
            path = path[..(path.Length - qName.Length - 1)];
            text.Clear();
        }

        while (reader.Read())
        {
            switch (reader.NodeType)
            {
                case XmlNodeType.Element:
                    var qName = reader.Name;
                    var empty = reader.IsEmptyElement;
                    attributes = [];
                    while (reader.MoveToNextAttribute())
                    {
                        attributes[reader.Name] = reader.Value;
                    }
                    if (qName == "file")
                    {
                        md5 = sha1 = sha256 = null;
                        size = null;
                        name = attributes.GetValueOrDefault("name") is { Length: > 0 } fileName ? fileName : null;
                    }
                    path += "." + qName;
                    if (empty)
                    {
                        End(qName);
                    }
                    break;
                case XmlNodeType.EndElement:
                    End(reader.Name);
                    break;
                case XmlNodeType.Text or XmlNodeType.CDATA or XmlNodeType.Whitespace or XmlNodeType.SignificantWhitespace:
                    text.Append(reader.Value);
                    break;
            }
        }
        return links;
    }

    private static bool Is(string path, params string[] candidates) => candidates.Any(c => path.Equals(c, StringComparison.OrdinalIgnoreCase));
}
