namespace Regards.Portal.Infrastructure;

/// <summary>
/// Headers every answer carries: <c>X-Content-Type-Options: nosniff</c> (a downloaded file or an API answer is never
/// run as a script or page because its bytes look like one) and <c>Referrer-Policy: same-origin</c> (URLs of the
/// portal, which may carry order tokens, are not sent to other sites).
/// </summary>
public static class SecurityHeaders
{
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            if (!headers.ContainsKey("Referrer-Policy"))
            {
                headers["Referrer-Policy"] = "same-origin";
            }
            return Task.CompletedTask;
        });
        return next(context);
    });
}
