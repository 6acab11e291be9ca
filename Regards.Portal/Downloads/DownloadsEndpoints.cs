using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Downloads;

/// <summary>api.md "Downloads": thin handlers over <see cref="DownloadService"/>; bytes never go through a circuit.</summary>
public static class DownloadsEndpoints
{
    public static IEndpointRouteBuilder MapDownloadsEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var user = endpoints.MapGroup("/api/user/orders").WithTags("Downloads");
        user.MapGet("/{id:long}/download", Zip).RequireAuthorization().AcceptsQueryToken();
        user.MapGet("/{id:long}/metalink/download", Metalink).RequireAuthorization().AcceptsQueryToken();
        user.MapGet("/metalink/download", PublicMetalink).AllowAnonymous();
        // The portal's own: a bash + curl script of the order (as ASF Vertex and Earthdata Search offer), public token inside.
        user.MapGet("/{id:long}/script/download", Script).RequireAuthorization().AcceptsQueryToken();
        user.MapGet("/script/download", PublicScript).AllowAnonymous();

        var files = endpoints.MapGroup("/api/orders").WithTags("Downloads");
        // REGARDS: each dataset file with its "self" link to the file; available files with no link.
        files.MapGet("/{orderId:long}/dataset/{datasetTaskId:long}/files", async (long orderId, long datasetTaskId, int? page, int? size, ClaimsPrincipal p, HttpContext c, DownloadService downloads, CancellationToken ct) =>
            FilesPage(c, await downloads.ListDatasetFilesAsync(Caller.Require(p), orderId, datasetTaskId, PageRequest.From(page, size), ct), withSelf: true)).RequireAuthorization();
        files.MapGet("/{orderId:long}/files/available", async (long orderId, int? page, int? size, ClaimsPrincipal p, HttpContext c, DownloadService downloads, CancellationToken ct) =>
            FilesPage(c, await downloads.ListAvailableAsync(Caller.Require(p), orderId, null, PageRequest.From(page, size), ct), withSelf: false)).RequireAuthorization();
        files.MapGet("/{orderId:long}/filesTask/{filesTaskId:long}/files/available", async (long orderId, long filesTaskId, int? page, int? size, ClaimsPrincipal p, HttpContext c, DownloadService downloads, CancellationToken ct) =>
            FilesPage(c, await downloads.ListAvailableAsync(Caller.Require(p), orderId, filesTaskId, PageRequest.From(page, size), ct), withSelf: false)).RequireAuthorization();
        files.MapMethods("/files/{fileId:long}", [HttpMethods.Get, HttpMethods.Head], File).RequireAuthorization().AcceptsQueryToken();
        // The download clients' route, many small GETs: it runs as soon as it is matched (security headers, gateway
        // paths and the exception handler come before routing), without the middleware it has no use for
        // (localization, sign-in, authorization, antiforgery, status-code pages): an eighth of its CPU under wrk.
        files.MapMethods("/public/files/{fileId:long}", [HttpMethods.Get, HttpMethods.Head], PublicFile).AllowAnonymous().ShortCircuit();

        endpoints.MapGet("/api/user/quota", async (ClaimsPrincipal p, DownloadQuotas quotas, CancellationToken ct) =>
            TypedResults.Ok(await quotas.GetLimitsAsync(Caller.Require(p).Email, ct))).RequireAuthorization().WithTags("Downloads");
        endpoints.MapPut("/api/orders/quotas/{email}", async (string email, QuotaRequest body, DownloadQuotas quotas, CancellationToken ct) =>
        {
            await quotas.SetUserLimitsAsync(email, body.MaxDownloads, body.MaxConcurrentDownloads, body.ResetCount, ct);
            return TypedResults.Ok(await quotas.GetLimitsAsync(email, ct));
        }).RequireAuthorization(PortalRoles.AdminPolicy).WithTags("Orders (admin)");
        return endpoints;
    }

    private static Ok<PagedModel<OrderFileDto>> FilesPage(HttpContext context, PagedResult<OrderFileDto> page, bool withSelf)
    {
        var hateoas = new Hateoas(context);
        return TypedResults.Ok(hateoas.Page(page, f => new EntityModel<OrderFileDto>(f.Absolute(hateoas),
            withSelf ? [hateoas.Link("self", OrderFileDto.FilePath(f.Id))] : [])));
    }

    private static async Task<IResult> Zip(long id, HttpContext context, ClaimsPrincipal principal, DownloadService downloads)
    {
        var caller = Caller.Require(principal);
        var order = await downloads.PrepareZipAsync(caller, id, context.RequestAborted);
        if (order is null)
        {
            return TypedResults.NoContent();
        }
        await using var zipSlot = await downloads.AcquireStreamSlotAsync(order.Owner, ConcurrencyKind.Zip, context.RequestAborted);
        await using var slot = await downloads.AcquireSlotAsync(order.Owner, context.RequestAborted);
        await StreamAsync(context, downloads, Operations.DownloadKind.Zip, "application/zip", downloads.ZipFileName(order),
            body => downloads.WriteZipAsync(order, caller.Email, slot, body, context.RequestAborted));
        return Results.Empty;
    }

    private static async Task<IResult> Metalink(long id, string? format, int? notReady, HttpContext context, ClaimsPrincipal principal, DownloadService downloads)
    {
        var metalinkFormat = DownloadService.MetalinkFormatFor(format, context.Request.GetTypedHeaders().Accept);
        var (order, token) = await downloads.PrepareMetalinkAsync(Caller.Require(principal), id, context.RequestAborted);
        await WriteMetalinkAsync(context, downloads, order, token, metalinkFormat, notReady);
        return Results.Empty;
    }

    private static async Task<IResult> PublicMetalink(string? orderToken, string? format, int? notReady, HttpContext context, DownloadService downloads)
    {
        var metalinkFormat = DownloadService.MetalinkFormatFor(format, context.Request.GetTypedHeaders().Accept);
        var claims = downloads.RequireToken(orderToken);
        var (order, token) = await downloads.PrepareMetalinkAsync(claims, context.RequestAborted);
        await WriteMetalinkAsync(context, downloads, order, token, metalinkFormat, notReady);
        return Results.Empty;
    }

    private static async Task<IResult> Script(long id, HttpContext context, ClaimsPrincipal principal, DownloadService downloads)
    {
        var (order, token) = await downloads.PrepareMetalinkAsync(Caller.Require(principal), id, context.RequestAborted);
        await WriteScriptAsync(context, downloads, order, token);
        return Results.Empty;
    }

    private static async Task<IResult> PublicScript(string? orderToken, HttpContext context, DownloadService downloads)
    {
        var (order, token) = await downloads.PrepareMetalinkAsync(downloads.RequireToken(orderToken), context.RequestAborted);
        await WriteScriptAsync(context, downloads, order, token);
        return Results.Empty;
    }

    /// <summary>A script is a file list like a metalink: it takes one of the owner's metalink slots.</summary>
    private static async Task WriteScriptAsync(HttpContext context, DownloadService downloads, DownloadableOrder order, string token)
    {
        await using var slot = await downloads.AcquireStreamSlotAsync(order.Owner, ConcurrencyKind.Metalink, context.RequestAborted);
        var baseUrl = downloads.PublicBaseUrl(context.Request);
        await StreamAsync(context, downloads, Operations.DownloadKind.Metalink, DownloadScriptWriter.ContentType, downloads.ScriptFileName(order),
            body => downloads.WriteScriptAsync(order, token, baseUrl, body, context.RequestAborted));
    }

    private static async Task WriteMetalinkAsync(HttpContext context, DownloadService downloads, DownloadableOrder order, string token, MetalinkFormat format, int? notReady)
    {
        await using var slot = await downloads.AcquireStreamSlotAsync(order.Owner, ConcurrencyKind.Metalink, context.RequestAborted);
        var baseUrl = downloads.PublicBaseUrl(context.Request);
        await StreamAsync(context, downloads, Operations.DownloadKind.Metalink, MetalinkWriter.ContentType(format), downloads.MetalinkFileName(order, format),
            body => downloads.WriteMetalinkAsync(order, token, baseUrl, format, notReady == 503, body, context.RequestAborted));
    }

    private static async Task File(long fileId, int? notReady, HttpContext context, ClaimsPrincipal principal, DownloadService downloads)
    {
        var caller = Caller.Require(principal);
        // A caller who asked too often for a file not ready yet is answered before any database work.
        if (downloads.NotReadyRetryAfter(caller.Email, fileId) is { } wait)
        {
            await NotReadyTooOftenAsync(context, wait);
            return;
        }
        var file = await downloads.GetFileAsync(caller, fileId, context.RequestAborted);
        await FileResponder.ServeAsync(context, downloads, file, caller.Email, notReady == 503);
    }

    private static async Task PublicFile(long fileId, string? orderToken, int? notReady, HttpContext context, DownloadService downloads)
    {
        var claims = downloads.RequireToken(orderToken);
        if (downloads.NotReadyRetryAfter(claims.Owner, fileId) is { } wait)
        {
            await NotReadyTooOftenAsync(context, wait);
            return;
        }
        var file = await downloads.GetPublicFileAsync(claims, fileId, context.RequestAborted);
        await FileResponder.ServeAsync(context, downloads, file, claims.Owner, notReady == 503);
    }

    /// <summary>429 + Retry-After for a caller asking too often for a file still being staged (written here, not thrown:
    /// a flooding client must cost little).</summary>
    internal static Task NotReadyTooOftenAsync(HttpContext context, int retryAfterSeconds)
    {
        context.RequestServices.GetRequiredService<Operations.PortalMetrics>().Refused("not_ready_too_often");
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return ApiProblems.Result(StatusCodes.Status429TooManyRequests, "FILE_NOT_READY_ASKED_TOO_OFTEN",
            $"This file is still being made available and was asked for too often; ask again in {retryAfterSeconds} s.").ExecuteAsync(context);
    }

    /// <summary>Headers, then the body written straight to the response; a client that leaves (or stalls) just ends the stream.</summary>
    private static async Task StreamAsync(HttpContext context, DownloadService downloads, Operations.DownloadKind kind, string contentType, string fileName, Func<ResponseWriter, Task> write)
    {
        var response = context.Response;
        response.ContentType = contentType;
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileName = fileName }.ToString();
        response.Headers.CacheControl = "no-store";
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var body = downloads.OpenResponse(context);
        try
        {
            await write(body);
        }
        catch (Exception e) when (e is ClientGoneException || (e is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested))
        {
            context.Abort();
        }
        finally
        {
            downloads.Metrics.ServedBytes(kind, body.Delivered);
        }
    }
}

public sealed record QuotaRequest(int MaxDownloads, int MaxConcurrentDownloads, bool ResetCount);
