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
        user.MapPost("", (CreateOrderRequest? body, ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken ct) => CreateAsync(body, principal, context, orders, false, ct));
        user.MapPost("/apply", Apply);
        user.MapGet("", ListMine);
        user.MapGet("/{id:long}", Get);
        user.MapPut("/pause/{id:long}", (long id, ClaimsPrincipal p, HttpContext c, OrderService orders, CancellationToken ct) => Ok(c, orders.PauseAsync(Caller.Require(p), id, ct)));
        user.MapPut("/resume/{id:long}", (long id, ClaimsPrincipal p, HttpContext c, OrderService orders, CancellationToken ct) => Ok(c, orders.ResumeAsync(Caller.Require(p), id, ct)));
        user.MapDelete("/{id:long}", (long id, ClaimsPrincipal p, HttpContext c, OrderService orders, CancellationToken ct) => Ok(c, orders.DeleteAsync(Caller.Require(p), id, ct)));
        user.MapDelete("/remove/{id:long}", Remove);
        user.MapPut("/{id:long}/retry", (long id, ClaimsPrincipal p, HttpContext c, OrderService orders, CancellationToken ct) => Ok(c, orders.RetryAsync(Caller.Require(p), id, ct)));
        user.MapPost("/{id:long}/restart", Restart);

        var admin = endpoints.MapGroup("/api/orders").WithTags("Orders (admin)").RequireAuthorization(PortalRoles.AdminPolicy);
        admin.MapPost("", (CreateOrderRequest? body, ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken ct) => CreateAsync(body, principal, context, orders, true, ct));
        admin.MapPost("/search", Search);
        admin.MapPost("/csv", Csv);
        // The same export as a link for the admin page (browsers download GETs): the filter in the query string.
        admin.MapGet("/csv", (string? owner, string[]? statuses, bool? excludeStatuses, DateTime? after, DateTime? before, bool? waitingForUser, HttpContext context, OrderCsvExporter exporter, CancellationToken ct) =>
            Csv(OrderSearchFilter.FromQuery(owner, statuses, excludeStatuses ?? false, after, before, waitingForUser), context, exporter, ct));
        admin.MapGet("/owners", async (string? q, ClaimsPrincipal p, OrderService orders, CancellationToken ct) => TypedResults.Ok(await orders.SearchOwnersAsync(Caller.Require(p), q, ct)));
        admin.MapPut("/{id:long}/expiration", (long id, ExpirationRequest body, ClaimsPrincipal p, HttpContext c, OrderService orders, CancellationToken ct) => Ok(c, orders.ExtendExpirationAsync(Caller.Require(p), id, body.ExpirationDate, ct)));
        return endpoints;
    }

    /// <summary>REGARDS answers these actions with an empty 200; the portal adds the order as it now is (in REGARDS' envelope).</summary>
    private static async Task<Ok<EntityModel<OrderDto>>> Ok(HttpContext context, Task<OrderDto> action) => TypedResults.Ok((await action).ToModel(new Hateoas(context)));

    private static async Task<Results<Created<EntityModel<OrderDto>>, NoContent>> CreateAsync(CreateOrderRequest? body, ClaimsPrincipal principal, HttpContext context, OrderService orders, bool applicationOrder, CancellationToken cancellationToken)
    {
        var order = await orders.CreateAsync(Caller.Require(principal), body?.Label, applicationOrder, cancellationToken);
        return order is null ? TypedResults.NoContent() : Created(context, order);
    }

    private static Created<EntityModel<OrderDto>> Created(HttpContext context, OrderDto order)
    {
        var hateoas = new Hateoas(context);
        return TypedResults.Created(hateoas.Href($"/api/user/orders/{order.Id}"), order.ToModel(hateoas));
    }

    /// <summary>REGARDS' automatic order: 200 GRANTED with the order id, 422 with FAILED or DENIED and the reason.</summary>
    private static async Task<IResult> Apply(AutoOrderRequest request, ClaimsPrincipal principal, AutoOrderService autoOrders, CancellationToken cancellationToken)
    {
        var response = await autoOrders.ApplyAsync(Caller.Require(principal), request, cancellationToken);
        var status = response.Status == AutoOrderStatus.Granted ? StatusCodes.Status200OK : StatusCodes.Status422UnprocessableEntity;
        return TypedResults.Json(Hateoas.Bare(response), statusCode: status);
    }

    private static async Task<Ok<PagedModel<OrderDto>>> ListMine(ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken cancellationToken, int? page = null, int? size = null)
    {
        var hateoas = new Hateoas(context);
        return TypedResults.Ok(hateoas.Page(await orders.ListMineAsync(Caller.Require(principal), PageRequest.From(page, size), cancellationToken), o => o.ToModel(hateoas)));
    }

    private static async Task<Ok<EntityModel<OrderDto>>> Get(long id, ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken cancellationToken) =>
        TypedResults.Ok((await orders.GetAsync(Caller.Require(principal), id, cancellationToken)).ToModel(new Hateoas(context)));

    private static async Task<Ok<EntityModel<OrderDto>>> Remove(long id, ClaimsPrincipal principal, OrderService orders, CancellationToken cancellationToken)
    {
        var caller = Caller.Require(principal);
        // Reveal nothing to users who cannot see the order; a user who can see it but is no admin gets 403.
        var order = await orders.GetAsync(caller, id, cancellationToken);
        await orders.RemoveAsync(caller, id, cancellationToken);
        return TypedResults.Ok(new EntityModel<OrderDto>(order with { Status = OrderStatus.Deleted, Links = [] }, []));
    }

    private static async Task<Created<EntityModel<OrderDto>>> Restart(long id, RestartOrderRequest? body, ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken cancellationToken) =>
        Created(context, await orders.RestartAsync(Caller.Require(principal), id, body?.Label, cancellationToken));

    private static async Task<Ok<PagedModel<OrderDto>>> Search(OrderSearchFilter? filter, ClaimsPrincipal principal, HttpContext context, OrderService orders, CancellationToken cancellationToken,
        int? page = null, int? size = null, string? sort = null)
    {
        var hateoas = new Hateoas(context);
        var found = await orders.SearchAsync(Caller.Require(principal), filter ?? new OrderSearchFilter(), PageRequest.From(page, size), sort, cancellationToken);
        return TypedResults.Ok(hateoas.Page(found, o => o.ToModel(hateoas)));
    }

    private static async Task Csv(OrderSearchFilter? filter, HttpContext context, OrderCsvExporter exporter, CancellationToken cancellationToken)
    {
        // Validate the filter before the first byte: a bad filter is a 400, not a truncated file.
        OrderQueries.Filter(Enumerable.Empty<Order>().AsQueryable(), filter ?? new OrderSearchFilter());
        context.Response.ContentType = "text/csv; charset=utf-8";
        context.Response.Headers.ContentDisposition = "attachment; filename=\"orders.csv\"";
        await exporter.WriteAsync(filter ?? new OrderSearchFilter(), context.Response.Body, cancellationToken);
    }
}
