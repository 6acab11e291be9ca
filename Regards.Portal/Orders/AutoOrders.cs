using System.Globalization;
using System.Text.Json.Serialization;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

/// <summary>REGARDS' <c>OrderRequestDto</c>, the body of <c>POST /user/orders/apply</c>.</summary>
public sealed record AutoOrderRequest(
    IReadOnlyList<string>? Queries, AutoOrderFilters? Filters, string? CorrelationId, string? User, long? SizeLimitInBytes);

/// <summary>REGARDS' <c>OrderRequestFilters</c>: data types (RAWDATA, QUICKLOOK) and an optional file-name regex.</summary>
public sealed record AutoOrderFilters(IReadOnlyList<string>? DataTypes, string? FilenameRegExp);

public enum AutoOrderStatus
{
    [JsonStringEnumMemberName("GRANTED")] Granted,
    [JsonStringEnumMemberName("DENIED")] Denied,
    [JsonStringEnumMemberName("FAILED")] Failed,
}

public enum AutoOrderErrorType
{
    [JsonStringEnumMemberName("INVALID_CONTENT")] InvalidContent,
    [JsonStringEnumMemberName("FORBIDDEN")] Forbidden,
    [JsonStringEnumMemberName("ORDER_LIMIT_REACHED")] OrderLimitReached,
    [JsonStringEnumMemberName("EMPTY_ORDER")] EmptyOrder,
    [JsonStringEnumMemberName("INTERNAL_ERROR")] InternalError,
}

/// <summary>REGARDS' <c>OrderResponseDto</c>; absent members are left out, as REGARDS' Gson writes them.</summary>
public sealed record AutoOrderResponse(
    AutoOrderStatus Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] long? OrderId,
    string CorrelationId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] AutoOrderErrorType? ErrorType);

/// <summary>
/// REGARDS' automatic order: one call turns search queries into an order, without touching the caller's cart. Each
/// query is the catalog's text search over every dataset the caller may order; <c>*</c> asks for all of them
/// explicitly (an empty query is refused: a whole catalog is never ordered by default). The order is an application
/// order (REGARDS uses its application sub-order duration here), labelled "Generated order" and its date.
/// </summary>
public sealed class AutoOrderService(BasketService baskets, OrderService orders, TimeProvider time, ILogger<AutoOrderService> logger)
{
    public const string AllObjects = "*";
    private const int MaxQueries = 100;
    private const int MaxCorrelationIdLength = 255;

    public async Task<AutoOrderResponse> ApplyAsync(Caller caller, AutoOrderRequest request, CancellationToken cancellationToken = default)
    {
        var correlationId = request.CorrelationId is { Length: > 0 } given ? given : $"auto-correlation-id-{Guid.NewGuid()}";
        if (correlationId.Length > MaxCorrelationIdLength)
        {
            throw Invalid("CORRELATION_ID_TOO_LONG", $"correlationId is at most {MaxCorrelationIdLength} characters.");
        }
        if (request.Queries is not { Count: > 0 } queries)
        {
            throw Invalid("QUERIES_REQUIRED", "list of queries should not be empty");
        }
        if (queries.Count > MaxQueries)
        {
            throw Invalid("TOO_MANY_QUERIES", $"At most {MaxQueries} queries in one request.");
        }
        if (queries.Any(string.IsNullOrWhiteSpace))
        {
            throw Invalid("EMPTY_QUERY", $"A query may not be empty; '{AllObjects}' orders every object you may order.");
        }
        var filter = ParseFilters(request.Filters);
        var selections = queries.Select(q => new SelectionRequest { Q = q.Trim() == AllObjects ? null : q.Trim() }).ToList();

        long? basketId;
        try
        {
            basketId = await baskets.CreateDetachedAsync(caller, selections, filter, cancellationToken);
        }
        catch (PortalException e) when (e.Code == "CART_LIMIT")
        {
            return new(AutoOrderStatus.Denied, null, correlationId, e.Message, AutoOrderErrorType.OrderLimitReached);
        }
        if (basketId is null)
        {
            return new(AutoOrderStatus.Failed, null, correlationId, "EmptySelectionException: This selection contains no file that can be ordered", AutoOrderErrorType.EmptyOrder);
        }
        var label = $"Generated order {time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}";
        try
        {
            var order = await orders.CreateFromDetachedAsync(caller, basketId.Value, label, isApplicationOrder: true, cancellationToken);
            logger.LogInformation("Automatic order {OrderId} ({CorrelationId}) created by {Actor}", order.Id, correlationId, caller.Email);
            return new(AutoOrderStatus.Granted, order.Id, correlationId, null, null);
        }
        catch (PortalException e)
        {
            return new(AutoOrderStatus.Failed, null, correlationId, $"{e.Code}: {e.Message}", AutoOrderErrorType.InternalError);
        }
    }

    private static FileFilter? ParseFilters(AutoOrderFilters? filters)
    {
        if (filters is null)
        {
            return null;
        }
        if (filters.DataTypes is not { Count: > 0 } dataTypes)
        {
            throw Invalid("DATA_TYPES_REQUIRED", "filters.dataTypes should not be empty");
        }
        var types = dataTypes.SelectMany(name => FileTypesConverter.TypesNamed(name)
            ?? throw Invalid("BAD_DATA_TYPE", $"Unknown data type '{name}': RAWDATA or QUICKLOOK.")).ToList();
        // The pattern and the types are checked with the cart's own rule when the order's cart is made.
        return new FileFilter { FileTypes = types.Distinct().ToList(), FileNamePattern = string.IsNullOrWhiteSpace(filters.FilenameRegExp) ? null : filters.FilenameRegExp };
    }

    /// <summary>REGARDS answers a request that fails its bean validation with 422 and the constraint's message.</summary>
    private static PortalException Invalid(string code, string message) => PortalException.Unprocessable(code, message, message);
}
