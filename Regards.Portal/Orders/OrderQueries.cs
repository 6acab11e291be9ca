using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

/// <summary>Who sees which order, and the admin filter and sort, shared by the search, the CSV summary and the pages.</summary>
public static class OrderQueries
{
    /// <summary>An admin sees every order, a user their own; anyone else's order is "not found", never revealed.</summary>
    public static IQueryable<Order> VisibleTo(this IQueryable<Order> orders, Identity.Caller caller) =>
        caller.IsAdmin ? orders : orders.Where(o => o.Owner == caller.Email);

    public static IQueryable<Order> Filter(IQueryable<Order> orders, OrderSearchFilter filter)
    {
        if (filter.Owner is { Length: > 0 } owner)
        {
            orders = orders.Where(o => o.Owner == owner.Trim());
        }
        if (filter.Statuses is { Values.Count: > 0 } statuses)
        {
            var values = statuses.Values.ToList();
            orders = statuses.Mode == FilterMode.Include ? orders.Where(o => values.Contains(o.Status)) : orders.Where(o => !values.Contains(o.Status));
        }
        if (filter.CreationDate?.After is { } after)
        {
            var utc = after.ToUniversalTime();
            orders = orders.Where(o => o.CreationDate >= utc);
        }
        if (filter.CreationDate?.Before is { } before)
        {
            var utc = before.ToUniversalTime();
            orders = orders.Where(o => o.CreationDate <= utc);
        }
        if (filter.CreationDate is { After: { } a, Before: { } b } && a > b)
        {
            throw PortalException.BadRequest("BAD_FILTER", "creationDate.after must be before creationDate.before.");
        }
        if (filter.WaitingForUser is { } waiting)
        {
            orders = orders.Where(o => o.WaitingForUser == waiting);
        }
        return orders;
    }

    /// <summary><c>column[,asc|desc]</c> on every column; newest first by default.</summary>
    public static IQueryable<Order> Sort(IQueryable<Order> orders, string? sort)
    {
        if (string.IsNullOrWhiteSpace(sort))
        {
            return orders.OrderByDescending(o => o.CreationDate).ThenByDescending(o => o.Id);
        }
        var parts = sort.Split(',', StringSplitOptions.TrimEntries);
        var descending = parts.Length == 2 && parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase);
        if (parts.Length > 2 || (parts.Length == 2 && !descending && !parts[1].Equals("asc", StringComparison.OrdinalIgnoreCase)))
        {
            throw PortalException.BadRequest("BAD_SORT", "sort is column[,asc|desc].");
        }
        IOrderedQueryable<Order> Apply<TKey>(System.Linq.Expressions.Expression<Func<Order, TKey>> key) =>
            descending ? orders.OrderByDescending(key) : orders.OrderBy(key);
        var sorted = parts[0].ToLowerInvariant() switch
        {
            "id" => Apply(o => o.Id),
            "owner" => Apply(o => o.Owner),
            "label" => Apply(o => o.Label),
            "status" => Apply(o => o.Status),
            "percentcompleted" => Apply(o => o.PercentCompleted),
            "creationdate" => Apply(o => o.CreationDate),
            "expirationdate" => Apply(o => o.ExpirationDate),
            "objectscount" => Apply(o => o.ObjectsCount),
            "filescount" => Apply(o => o.FilesCount),
            "totalsize" => Apply(o => o.TotalSize),
            "filesinerrorcount" => Apply(o => o.FilesInErrorCount),
            "statusdate" => Apply(o => o.StatusDate),
            _ => throw PortalException.BadRequest("BAD_SORT", $"Unknown sort column '{parts[0]}'."),
        };
        return descending ? sorted.ThenByDescending(o => o.Id) : sorted.ThenBy(o => o.Id);
    }
}
