using System.Security.Cryptography;

namespace Regards.Portal.Infrastructure;

/// <summary>
/// Headers every answer carries: <c>X-Content-Type-Options: nosniff</c> (a downloaded file or an API answer is never
/// run as a script or page because its bytes look like one), <c>Referrer-Policy: same-origin</c> (URLs of the portal,
/// which may carry order tokens, are not sent to other sites) and a Content Security Policy.
/// </summary>
public static class SecurityHeaders
{
    private const string NonceKey = "Regards.Portal.CspNonce";

    /// <summary>
    /// Pages: scripts only from the portal itself, plus the inline import map that carries this request's nonce; styles
    /// from the portal and inline (MudBlazor writes its theme as a <c>style</c> element and positions with <c>style</c>
    /// attributes); the circuit's WebSocket to the portal; no plugin, no foreign form target, no framing by other sites.
    /// </summary>
    private static string PagePolicy(string nonce) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
        "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";

    /// <summary>Anything else (API answers, files of orders, metalinks): nothing runs, even if opened as a page.</summary>
    private const string ResourcePolicy = "default-src 'none'; frame-ancestors 'none'; sandbox";

    /// <summary>
    /// The nonce of this request's page, for its inline scripts (the import map) and its policy header: made on first
    /// demand, by whichever comes first (a file or an API answer never pays for random bytes).
    /// </summary>
    public static string NonceOf(HttpContext context)
    {
        if (context.Items.TryGetValue(NonceKey, out var existing) && existing is string value)
        {
            return value;
        }
        // Hex: the value is written into an HTML attribute as is (no character to encode).
        var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        context.Items[NonceKey] = nonce;
        return nonce;
    }

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(static state =>
        {
            var context = (HttpContext)state;
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (!headers.ContainsKey("Referrer-Policy"))
            {
                headers["Referrer-Policy"] = "same-origin";
            }
            var isPage = context.Response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true;
            headers.ContentSecurityPolicy = isPage ? PagePolicy(NonceOf(context)) : ResourcePolicy;
            return Task.CompletedTask;
        }, context);
        return next(context);
    });
}
