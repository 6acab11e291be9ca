using System.Security.Claims;
using Regards.Portal.Identity;

namespace Regards.Portal.Processing;

/// <summary>api.md "Processing": the catalogue for users, its settings and usage for administrators.</summary>
public static class ProcessingEndpoints
{
    public static IEndpointRouteBuilder MapProcessingEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/processing", async (ClaimsPrincipal user, ProcessingCatalog catalog, CancellationToken ct) =>
                TypedResults.Ok(await catalog.ListAsync(Caller.Require(user), ct)))
            .WithTags("Processing").RequireAuthorization();

        var admin = endpoints.MapGroup("/api/admin/processing").WithTags("Processing (admin)").RequireAuthorization(PortalRoles.AdminPolicy);
        admin.MapGet("", async (ProcessingCatalog catalog, CancellationToken ct) => TypedResults.Ok(await catalog.ListForAdminAsync(ct)));
        admin.MapGet("/usage", async (ProcessingCatalog catalog, CancellationToken ct) => TypedResults.Ok(await catalog.UsageAsync(ct)));
        admin.MapPut("/{businessId}", async (string businessId, ProcessingSettingsRequest body, ProcessingCatalog catalog, CancellationToken ct) =>
            TypedResults.Ok(await catalog.UpdateSettingsAsync(businessId, body, ct)));
        return endpoints;
    }
}
