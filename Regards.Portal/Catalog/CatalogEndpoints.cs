using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Catalog;

public static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/catalog").WithTags("Catalog").RequireAuthorization();
        group.MapGet("/datasets", GetDatasets);
        group.MapGet("/search", Search);
        return endpoints;
    }

    private static async Task<Ok<IReadOnlyList<DatasetDto>>> GetDatasets(ClaimsPrincipal user, CatalogService catalog, CancellationToken cancellationToken) =>
        TypedResults.Ok(await catalog.GetDatasetsAsync(Caller.From(user), cancellationToken));

    private static async Task<Ok<PagedResult<DataObjectDto>>> Search(
        ClaimsPrincipal user, CatalogService catalog, CancellationToken cancellationToken,
        string? q = null, string? datasetId = null, DateTime? from = null, DateTime? to = null, int? page = null, int? size = null, string? sort = null)
    {
        var request = new SelectionRequest { Q = q, DatasetId = datasetId, From = from?.ToUniversalTime(), To = to?.ToUniversalTime() };
        return TypedResults.Ok(await catalog.SearchAsync(Caller.From(user), request, PageRequest.From(page, size), CatalogSort.Parse(sort), cancellationToken));
    }
}
