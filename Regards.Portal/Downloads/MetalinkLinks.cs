namespace Regards.Portal.Downloads;

/// <summary>
/// The metalink links handed to people (My orders, e-mails). They carry <c>notReady=503</c>, copied into every file
/// URL of the document: files still being restored then answer 503 + Retry-After, which aria2 and the REGARDS
/// Downloader both retry (aria2 gives a file up on REGARDS' 202: "Unexpected status 202").
/// </summary>
public static class MetalinkLinks
{
    /// <summary>The signed-in owner's link (cookie or bearer).</summary>
    public static string OfOrder(long orderId, MetalinkFormat format) => $"/api/user/orders/{orderId}/metalink/download?{Query(format)}";

    /// <summary>The public link, opened by the order's token alone (e-mails).</summary>
    public static string Public(string baseUrl, string token, MetalinkFormat format) =>
        $"{baseUrl}/api/user/orders/metalink/download?orderToken={Uri.EscapeDataString(token)}&{Query(format)}";

    private static string Query(MetalinkFormat format) => format == MetalinkFormat.V4 ? "format=v4&notReady=503" : "notReady=503";
}
