using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

/// <summary>The REGARDS order paths (api.md "Orders"); handlers stay thin and call <see cref="OrderService"/>.</summary>
public static class OrdersEndpoints
{
    public static IEndpointRouteBuilder MapOrdersEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var user = endpoints.MapGroup("/api/user/orders").WithTags("Orders").RequireAuthorization();
        user.MapPost("", (CreateOrderRequest? body, ClaimsPrincipal principal, OrderService orders, CancellationToken ct) => CreateAsync(body, principal, orders, false, ct));
        user.MapGet("", ListMine);
        user.MapGet("/{id:long}", Get);
        user.MapPut("/pause/{id:long}", (long id, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => Ok(orders.PauseAsync(Caller.Require(p), id, ct)));
        user.MapPut("/resume/{id:long}", (long id, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => Ok(orders.ResumeAsync(Caller.Require(p), id, ct)));
        user.MapDelete("/{id:long}", (long id, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => Ok(orders.DeleteAsync(Caller.Require(p), id, ct)));
        user.MapDelete("/remove/{id:long}", Remove);
        user.MapPut("/{id:long}/retry", (long id, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => Ok(orders.RetryAsync(Caller.Require(p), id, ct)));
        user.MapPost("/{id:long}/restart", Restart);

        var admin = endpoints.MapGroup("/api/orders").WithTags("Orders (admin)").RequireAuthorization(PortalRoles.AdminPolicy);
        admin.MapPost("", (CreateOrderRequest? body, ClaimsPrincipal principal, OrderService orders, CancellationToken ct) => CreateAsync(body, principal, orders, true, ct));
        admin.MapPost("/search", Search);
        admin.MapPost("/csv", Csv);
        // The same export as a link for the admin page (browsers download GETs): the filter in the query string.
        admin.MapGet("/csv", (string? owner, string[]? statuses, bool? excludeStatuses, DateTime? after, DateTime? before, bool? waitingForUser, HttpContext context, OrderCsvExporter exporter, CancellationToken ct) =>
            Csv(OrderSearchFilter.FromQuery(owner, statuses, excludeStatuses ?? false, after, before, waitingForUser), context, exporter, ct));
        admin.MapGet("/owners", async (string? q, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => TypedResults.Ok(await orders.SearchOwnersAsync(Caller.Require(p), q, ct)));
        admin.MapPut("/{id:long}/expiration", (long id, ExpirationRequest body, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => Ok(orders.ExtendExpirationAsync(Caller.Require(p), id, body.ExpirationDate, ct)));
        return endpoints;
    }

    private static async Task<Ok<OrderDto>> Ok(Task<OrderDto> action) => TypedResults.Ok(await action);

    private static async Task<Results<Created<OrderDto>, NoContent>> CreateAsync(CreateOrderRequest? body, ClaimsPrincipal principal, OrderService orders, bool applicationOrder, CancellationToken cancellationToken)
    {
        var order = await orders.CreateAsync(Caller.Require(principal), body?.Label, applicationOrder, cancellationToken);
        return order is null ? TypedResults.NoContent() : TypedResults.Created($"/api/user/orders/{order.Id}", order);
    }

    private static async Task<Ok<PagedResult<OrderDto>>> ListMine(ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken, int? page = null, int? size = null) =>
        TypedResults.Ok(await orders.ListMineAsync(Caller.Require(principal), PageRequest.From(page, size), cancellationToken));

    private static async Task<Ok<OrderDto>> Get(long id, ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken) =>
        TypedResults.Ok(await orders.GetAsync(Caller.Require(principal), id, cancellationToken));

    private static async Task<Ok<OrderDto>> Remove(long id, ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(principal);
        // Reveal nothing to users who cannot see the order; a user who can see it but is no admin gets 403.
        var order = await orders.GetAsync(caller, id, cancellationToken);
        await orders.RemoveAsync(caller, id, cancellationToken);
        return TypedResults.Ok(order with { Status = OrderStatus.Deleted, Links = [] });
    }

    private static async Task<Created<OrderDto>> Restart(long id, RestartOrderRequest? body, ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken)
    {
        var order = await orders.RestartAsync(Caller.Require(principal), id, body?.Label, cancellationToken);
        return TypedResults.Created($"/api/user/orders/{order.Id}", order);
    }

    private static async Task<Ok<PagedResult<OrderDto>>> Search(OrderSearchFilter? filter, ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken,
        int? page = null, int? size = null, string? sort = null) =>
        TypedResults.Ok(await orders.SearchAsync(Caller.Require(principal), filter ?? new OrderSearchFilter(), PageRequest.From(page, size), sort, cancellationToken));

    private static async Task Csv(OrderSearchFilter? filter, HttpContext context, OrderCsvExporter exporter, CancellationToken cancellationToken)
    {
        // Validate the filter before the first byte: a bad filter is a 400, not a truncated file.
        OrderQueries.Filter(Enumerable.Empty<Order>().AsQueryable(), filter ?? new OrderSearchFilter());
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"orders.csv\"";
        await exporter.WriteAsync(filter ?? new OrderSearchFilter(), context.Response.Body, cancellationToken);
    }
}
