using System.Buffers;
using System.Globalization;
using System.Text;

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
/// Writes a metalink document file by file to a stream, as UTF-8 bytes into a chunk of about 64 KB handed to the stream
/// each time it fills (memory flat whatever the order's size).
/// The bytes are those an indenting <c>XmlWriter</c> wrote before (a test compares both on hostile values): its
/// namespace checks, per-character escaping and UTF-16 buffer copied into a MemoryStream took most of the CPU of a
/// 100 000-file metalink; here the fixed markup is constant bytes and a value is escaped only when it holds a character
/// that needs it (a vectorised search; names, hashes and URLs almost never do). Characters that XML cannot carry are
/// refused with an <see cref="ArgumentException"/>, as the XmlWriter's character checks did.
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

    private readonly ArrayBufferWriter<byte> chunk = new(ChunkSize + 8 * 1024);

    public static string ContentType(MetalinkFormat format) => format == MetalinkFormat.V4 ? "application/metalink4+xml" : "application/metalink+xml";

    public static string Extension(MetalinkFormat format) => format == MetalinkFormat.V4 ? ".meta4" : ".metalink";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Raw("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"u8);
        // Unprefixed (default namespace) in both versions: the REGARDS Downloader matches raw element names.
        if (format == MetalinkFormat.V4)
        {
            Raw("<metalink xmlns=\"urn:ietf:params:xml:ns:metalink\">\n  <generator>Regards.Portal</generator>\n  <published>"u8);
            Text(published.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            Raw("</published>\n"u8);
        }
        else
        {
            Raw("<metalink version=\"3.0\" type=\"static\" generator=\"Regards.Portal\" pubdate=\""u8);
            // "R" is RFC 1123, which matches the xsd's RFC822DateTime pattern.
            Attribute(published.ToString("R", CultureInfo.InvariantCulture));
            Raw("\" xmlns=\"http://www.metalinker.org/\">\n  <files>\n"u8);
        }
        return Task.CompletedTask;
    }

    public async Task WriteFileAsync(MetalinkEntry file, CancellationToken cancellationToken)
    {
        if (format == MetalinkFormat.V4)
        {
            Raw("  <file name=\""u8);
            Attribute(file.Name);
            Raw("\">\n    <size>"u8);
            Number(file.Size);
            Raw("</size>\n"u8);
            Hash("    "u8, "sha-256"u8, file.Sha256);
            Hash("    "u8, "md5"u8, file.Md5);
            if (file.Url.Length == 0)
            {
                // As the XmlWriter closed an element it was given no text for (v3 gave its url an empty text: "></url>").
                Raw("    <url />\n"u8);
            }
            else
            {
                Raw("    <url>"u8);
                Text(file.Url);
                Raw("</url>\n"u8);
            }
            Raw("  </file>\n"u8);
        }
        else
        {
            Raw("    <file name=\""u8);
            Attribute(file.Name);
            Raw("\">\n      <size>"u8);
            Number(file.Size);
            Raw("</size>\n"u8);
            if (!string.IsNullOrEmpty(file.MimeType))
            {
                Raw("      <mimetype>"u8);
                Text(file.MimeType);
                Raw("</mimetype>\n"u8);
            }
            if (!string.IsNullOrEmpty(file.Md5) || !string.IsNullOrEmpty(file.Sha256))
            {
                Raw("      <verification>\n"u8);
                Hash("        "u8, "md5"u8, file.Md5);
                // "sha256", not "sha-256": the xsd's hashType enumeration has only this spelling (aria2 aliases it).
                Hash("        "u8, "sha256"u8, file.Sha256);
                Raw("      </verification>\n"u8);
            }
            // aria2 drops a url without type; the Downloader ignores both attributes.
            Raw("      <resources>\n        <url type=\""u8);
            Raw(UrlType(file.Url));
            Raw("\" preference=\"100\">"u8);
            Text(file.Url);
            Raw("</url>\n"u8);
            Raw("      </resources>\n    </file>\n"u8);
        }
        if (chunk.WrittenCount >= ChunkSize)
        {
            await SendAsync(cancellationToken);
        }
    }

    private void Hash(ReadOnlySpan<byte> indent, ReadOnlySpan<byte> type, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }
        Raw(indent);
        Raw("<hash type=\""u8);
        Raw(type);
        Raw("\">"u8);
        Text(value);
        Raw("</hash>\n"u8);
    }

    /// <summary>The v3 url type (xsd enumeration ∩ what aria2 accepts); external links are http(s) or ftp.</summary>
    private static ReadOnlySpan<byte> UrlType(string url) =>
        url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) ? "https"u8
        : url.StartsWith("ftp:", StringComparison.OrdinalIgnoreCase) ? "ftp"u8
        : "http"u8;

    public async Task EndAsync(CancellationToken cancellationToken)
    {
        Raw(format == MetalinkFormat.V3 ? "  </files>\n</metalink>"u8 : "</metalink>"u8);
        await SendAsync(cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (chunk.WrittenCount > 0)
        {
            await output.WriteAsync(chunk.WrittenMemory, cancellationToken);
            chunk.ResetWrittenCount();
        }
    }

    private void Raw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(chunk.GetSpan(bytes.Length));
        chunk.Advance(bytes.Length);
    }

    private void Number(long value)
    {
        var span = chunk.GetSpan(20);
        value.TryFormat(span, out var written, default, CultureInfo.InvariantCulture);
        chunk.Advance(written);
    }

    // ---- escaping, as XmlWriter does it (NewLineHandling.Replace, new lines "\n", CheckCharacters) ------------------

    /// <summary>Printable ASCII that element text carries as it is.</summary>
    private static readonly SearchValues<char> PlainText = SearchValues.Create(Printable("<>&") + "\t");

    /// <summary>Printable ASCII that an attribute value (in double quotes) carries as it is.</summary>
    private static readonly SearchValues<char> PlainAttribute = SearchValues.Create(Printable("<>&\""));

    private static string Printable(string except)
    {
        var chars = new StringBuilder();
        for (var c = ' '; c <= '~'; c++)
        {
            if (!except.Contains(c))
            {
                chars.Append(c);
            }
        }
        return chars.ToString();
    }

    private void Text(string value) => Escaped(value, PlainText, attribute: false);

    private void Attribute(string value) => Escaped(value, PlainAttribute, attribute: true);

    private void Escaped(ReadOnlySpan<char> value, SearchValues<char> plain, bool attribute)
    {
        while (!value.IsEmpty)
        {
            var run = value.IndexOfAnyExcept(plain);
            if (run < 0)
            {
                run = value.Length;
            }
            if (run > 0)
            {
                // Plain ASCII: one byte a character.
                var span = chunk.GetSpan(run);
                Encoding.ASCII.GetBytes(value[..run], span);
                chunk.Advance(run);
                value = value[run..];
                continue;
            }
            var c = value[0];
            var used = 1;
            switch (c)
            {
                case '<': Raw("&lt;"u8); break;
                case '>': Raw("&gt;"u8); break;
                case '&': Raw("&amp;"u8); break;
                case '"': Raw("&quot;"u8); break; // attributes only: text lets it through as plain
                case '\t': Raw("&#x9;"u8); break; // attributes only
                case '\n': Raw(attribute ? "&#xA;"u8 : "\n"u8); break;
                case '\r':
                    if (attribute)
                    {
                        Raw("&#xD;"u8);
                    }
                    else
                    {
                        // A CR LF or a lone CR is one new line in text.
                        Raw("\n"u8);
                        used = value.Length > 1 && value[1] == '\n' ? 2 : 1;
                    }
                    break;
                default:
                    if (char.IsHighSurrogate(c) && value.Length > 1 && char.IsLowSurrogate(value[1]))
                    {
                        used = 2;
                    }
                    else if (c < ' ' || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
                    {
                        throw new ArgumentException($"U+{(int)c:X4} is not a character an XML document can carry.", nameof(value));
                    }
                    var bytes = chunk.GetSpan(4);
                    chunk.Advance(Encoding.UTF8.GetBytes(value[..used], bytes));
                    break;
            }
            value = value[used..];
        }
    }
}
