using Microsoft.Net.Http.Headers;
using Regards.Portal.Downloads;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Tests.Downloads;

/// <summary>Which metalink document a request gets: Metalink 3 unless it asks for Metalink 4.</summary>
[Trait("Tier", "Fast")]
public sealed class MetalinkFormatTests
{
    [Theory]
    // No preference (a browser, the REGARDS Downloader, curl): REGARDS' document.
    [InlineData(null, null, MetalinkFormat.V3)]
    [InlineData(null, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", MetalinkFormat.V3)]
    [InlineData(null, "*/*", MetalinkFormat.V3)]
    [InlineData(null, "application/metalink+xml", MetalinkFormat.V3)]
    [InlineData(null, "application/metalink4+xml", MetalinkFormat.V4)]
    // aria2 fetching a URL lists both, Metalink 4 first, same quality: it reads both, it gets the newer.
    [InlineData(null, "*/*,application/metalink4+xml,application/metalink+xml", MetalinkFormat.V4)]
    [InlineData(null, "application/metalink4+xml;q=0.5, application/metalink+xml", MetalinkFormat.V3)]
    [InlineData(null, "application/metalink4+xml;q=0", MetalinkFormat.V3)]
    // The query wins over the header.
    [InlineData("v4", null, MetalinkFormat.V4)]
    [InlineData("meta4", null, MetalinkFormat.V4)]
    [InlineData("V4", "application/metalink+xml", MetalinkFormat.V4)]
    [InlineData("v3", "application/metalink4+xml", MetalinkFormat.V3)]
    [InlineData("metalink", null, MetalinkFormat.V3)]
    [InlineData("", "application/metalink4+xml", MetalinkFormat.V4)]
    public void The_query_then_the_accept_header_choose_the_document(string? format, string? accept, MetalinkFormat expected)
    {
        IList<MediaTypeHeaderValue> accepted = accept is null ? [] : MediaTypeHeaderValue.ParseList([accept]);
        Assert.Equal(expected, DownloadService.MetalinkFormatFor(format, accepted));
    }

    [Fact]
    public void An_unknown_format_is_a_bad_request()
    {
        var refused = Assert.Throws<PortalException>(() => DownloadService.MetalinkFormatFor("v9", []));
        Assert.Equal(400, refused.Status);
        Assert.Equal("BAD_FORMAT", refused.Code);
    }
}
