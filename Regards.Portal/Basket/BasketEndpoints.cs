using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Basket;

public static class BasketEndpoints
{
    /// <summary>An upload of 1 000 provider ids is a few tens of KB; anything far bigger is refused before reading.</summary>
    private const long MaxUploadBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapBasketEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/order/basket").WithTags("Basket").RequireAuthorization();
        group.MapGet("", Get);
        group.MapPost("/selection", AddSelection);
        group.MapPost("/selection/upload", Upload).DisableAntiforgery();
        group.MapDelete("/dataset/{dsSelId:long}", RemoveDatasetSelection);
        group.MapDelete("/dataset/{dsSelId:long}/{itemsSelectionDate}", RemoveItemSelection);
        group.MapPut("/dataset/{dsSelId:long}/updateFileFilters", UpdateFileFilters);
        group.MapPut("/dataset/{dsSelId:long}/updateProcessing", UpdateProcessing);
        group.MapDelete("", Clear);
        return endpoints;
    }

    /// <summary>REGARDS answers the basket in its envelope with no links.</summary>
    private static Results<Ok<EntityModel<BasketDto>>, NoContent> OkOrNoContent(BasketDto? basket) =>
        basket is null ? TypedResults.NoContent() : TypedResults.Ok(Hateoas.Bare(basket));

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> Get(ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken) =>
        OkOrNoContent(await baskets.GetAsync(Caller.Require(user), cancellationToken));

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> AddSelection(System.Text.Json.JsonElement body, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken) =>
        OkOrNoContent(await baskets.AddSelectionAsync(Caller.Require(user), SelectionBody.Parse(body), cancellationToken));

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> Upload(IFormFile file, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        if (file.Length > MaxUploadBytes)
        {
            throw new PortalException(StatusCodes.Status413PayloadTooLarge, "TOO_MANY_LINES", "The list is too large.");
        }
        await using var stream = file.OpenReadStream();
        return OkOrNoContent(await baskets.AddProviderIdsAsync(Caller.Require(user), stream, cancellationToken));
    }

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> RemoveDatasetSelection(long dsSelId, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(user);
        if (await baskets.GetAsync(caller, cancellationToken) is null)
        {
            return TypedResults.NoContent();
        }
        return OkOrNoContent(await baskets.RemoveDatasetSelectionAsync(caller, dsSelId, cancellationToken));
    }

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> RemoveItemSelection(long dsSelId, string itemsSelectionDate, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        if (!DateTime.TryParse(itemsSelectionDate, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal, out var date))
        {
            throw PortalException.BadRequest("BAD_DATE", "itemsSelectionDate must be an ISO-8601 date.");
        }
        return OkOrNoContent(await baskets.RemoveItemSelectionAsync(Caller.Require(user), dsSelId, date, cancellationToken));
    }

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> UpdateFileFilters(long dsSelId, HttpRequest request, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        // The body is optional: empty means "remove the filters".
        var filter = await ReadOptionalJsonAsync<FileFilter>(request, cancellationToken);
        return OkOrNoContent(await baskets.UpdateFileFiltersAsync(Caller.Require(user), dsSelId, filter, cancellationToken));
    }

    private static async Task<Results<Ok<EntityModel<BasketDto>>, NoContent>> UpdateProcessing(long dsSelId, HttpRequest request, ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        // The body is optional: empty means "remove the processing".
        // REGARDS' client removes a processing with "{}": no processBusinessId means "remove", as an empty body does.
        var body = await ReadOptionalJsonAsync<ProcessingChoiceBody>(request, cancellationToken);
        var choice = body?.ToChoice();
        return OkOrNoContent(await baskets.UpdateProcessingAsync(Caller.Require(user), dsSelId, choice, cancellationToken));
    }

    private static async Task<Results<NoContent, NotFound>> Clear(ClaimsPrincipal user, BasketService baskets, CancellationToken cancellationToken)
    {
        await baskets.ClearAsync(Caller.Require(user), cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>Largest body of the optional-body PUTs (a filter or a processing choice is a few hundred bytes).</summary>
    private const int MaxOptionalBody = 64 * 1024;

    /// <summary>
    /// An optional JSON body: null when there is none. A chunked body has no Content-Length, so "none" is decided on
    /// the bytes actually received, not on the header (clients over a real socket send JSON chunked).
    /// </summary>
    private static async Task<T?> ReadOptionalJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken) where T : class
    {
        if (request.ContentLength == 0)
        {
            return null;
        }
        if (request.ContentLength > MaxOptionalBody)
        {
            throw new PortalException(StatusCodes.Status413PayloadTooLarge, "BODY_TOO_LARGE", $"The body must not exceed {MaxOptionalBody} bytes.");
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[8 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxOptionalBody)
            {
                throw new PortalException(StatusCodes.Status413PayloadTooLarge, "BODY_TOO_LARGE", $"The body must not exceed {MaxOptionalBody} bytes.");
            }
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0)
        {
            return null;
        }
        if (!request.HasJsonContentType())
        {
            throw new PortalException(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "The body must be JSON (Content-Type: application/json).");
        }
        try
        {
            buffer.Position = 0;
            var options = request.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            return await System.Text.Json.JsonSerializer.DeserializeAsync<T>(buffer, options, cancellationToken)
                   ?? throw PortalException.BadRequest("BAD_REQUEST", "The body is empty.");
        }
        catch (System.Text.Json.JsonException)
        {
            throw PortalException.BadRequest("BAD_REQUEST", "The body is not valid JSON for this request.");
        }
    }
}

/// <summary>The body of <c>updateProcessing</c> as clients send it (REGARDS' <c>ProcessDatasetDescriptionDto</c>).</summary>
internal sealed class ProcessingChoiceBody
{
    private string? processBusinessId;

    public string? ProcessBusinessId
    {
        get => processBusinessId;
        set
        {
            processBusinessId = value;
            NamesProcessing = true;
        }
    }

    public Dictionary<string, string>? Parameters { get; set; }

    /// <summary>The body has a <c>processBusinessId</c>, even null.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool NamesProcessing { get; private set; }

    /// <summary>
    /// The choice, or null for "remove the processing": "{}" (REGARDS' client) as no body does. A body that names no
    /// processing with a null or empty id, or gives parameters without one, is a mistake, not a removal.
    /// </summary>
    public ProcessingChoice? ToChoice()
    {
        if (!NamesProcessing && Parameters is null)
        {
            return null;
        }
        if (string.IsNullOrWhiteSpace(ProcessBusinessId))
        {
            throw PortalException.BadRequest("BAD_PROCESSING", "'processBusinessId' must name the processing to apply. To remove the processing, send no body or {}.");
        }
        return new ProcessingChoice { ProcessBusinessId = ProcessBusinessId.Trim(), Parameters = Parameters ?? new Dictionary<string, string>() };
    }
}
