using Microsoft.AspNetCore.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Identity;

/// <summary>
/// The sign-in cookie rides along with any request a browser sends, also from a page of another origin (another port
/// of the same host is "same-site", so SameSite=Lax does not stop it), and an API write needs no preflight when its
/// body is empty or a form. So an unsafe API request that authenticates with the cookie must come from the portal's
/// own pages: its <c>Origin</c> (or, without one, <c>Sec-Fetch-Site</c>) must say so. Bearer tokens are never sent by a
/// browser on its own, so requests carrying one are not concerned; neither are clients that send no cookie.
/// </summary>
public static class CrossOriginGuard
{
    public static IApplicationBuilder UseCrossOriginGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api")
            && !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) || HttpMethods.IsTrace(request.Method))
            && string.IsNullOrEmpty(request.Headers.Authorization)
            && request.Cookies.ContainsKey(IdentityConstants.ApplicationScheme.Insert(0, ".AspNetCore."))
            && IsFromAnotherOrigin(request))
        {
            var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = ApiProblems.Create(StatusCodes.Status403Forbidden, "CROSS_ORIGIN_REQUEST",
                    "This change was sent by a page of another site or port with your sign-in cookie, and was refused."),
            });
            return;
        }
        await next(context);
    });

    private static bool IsFromAnotherOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            return !Uri.TryCreate(origin, UriKind.Absolute, out var uri)
                || !string.Equals(uri.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
                || !string.Equals(uri.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase);
        }
        // No Origin: browsers that send Fetch Metadata say where the request comes from.
        var site = request.Headers["Sec-Fetch-Site"].ToString();
        return site.Length > 0 && site is not ("same-origin" or "none");
    }
}
