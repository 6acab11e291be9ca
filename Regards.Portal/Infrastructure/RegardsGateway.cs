namespace Regards.Portal.Infrastructure;

/// <summary>
/// REGARDS clients call rs-order through the REGARDS gateway, <c>{host}/api/v1/rs-order/...</c>; the portal serves
/// the same relative paths under <c>/api/...</c>. Requests under the gateway prefix are rewritten before routing,
/// so a REGARDS client changes only its host, and the links of the answers keep the prefix the client used.
/// </summary>
public static class RegardsGateway
{
    public const string Prefix = "/api/v1/rs-order";

    /// <summary>The rs-order paths; the rest of the portal's API (catalog, identity, processing) is not rs-order's.</summary>
    private static readonly string[] OrderPaths = ["/user/orders", "/orders", "/order/basket"];

    private static readonly object ViaGateway = new();

    public static IApplicationBuilder UseRegardsGatewayPrefix(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest)
            && OrderPaths.Any(p => rest.StartsWithSegments(p, StringComparison.OrdinalIgnoreCase)))
        {
            context.Request.Path = new PathString("/api").Add(rest);
            context.Items[ViaGateway] = true;
        }
        return next(context);
    });

    /// <summary>The path prefix that stands for <c>/api</c> in the links of this request's answer.</summary>
    public static string ApiPrefix(HttpContext context) => context.Items.ContainsKey(ViaGateway) ? Prefix : "/api";
}
