using System.Text.Json.Serialization;
using Regards.Portal.Basket;

namespace Regards.Portal.Orders;

public sealed record LinkDto(string Rel, string Href);

public sealed record DatasetTaskDto(long Id, string DatasetId, string DatasetLabel, int ObjectsCount, int FilesCount, long FilesSize,
    string? FileSelectionDescription, string? ProcessDatasetDescription);

public sealed record OrderDto(
    long Id, string Owner, string Label, DateTime CreationDate, OrderStatus Status, DateTime StatusDate, DateTime? ExpirationDate,
    int PercentCompleted, int FilesInErrorCount, int AvailableFilesCount, bool WaitingForUser, long TotalSize, int ObjectsCount,
    int FilesCount, string? Message, IReadOnlyList<DatasetTaskDto> DatasetTasks, IReadOnlyList<LinkDto> Links)
{
    /// <summary>Whether the links allow this action now (pages enable their buttons from these).</summary>
    public bool Allows(string rel) => Links.Any(l => l.Rel == rel);

    /// <summary>The pages' "Cancel order" (<see cref="OrderService.CancelAsync"/>: a running order is paused, then deleted).</summary>
    [JsonIgnore]
    public bool CanCancel => Allows("delete") || Allows("pause");

    public bool ExpiresSoon(DateTime utcNow) => ExpirationDate is { } expiration && expiration <= utcNow + OrderSweeper.ExpiresSoonWindow;
}

public enum FilterMode
{
    [JsonStringEnumMemberName("INCLUDE")] Include,
    [JsonStringEnumMemberName("EXCLUDE")] Exclude,
}

public sealed record StatusFilter(IReadOnlyList<OrderStatus> Values, FilterMode Mode = FilterMode.Include);

public sealed record DateRange(DateTime? After, DateTime? Before);

/// <summary>The admin filter of <c>POST /api/orders/search</c> and <c>/csv</c>.</summary>
public sealed record OrderSearchFilter
{
    public string? Owner { get; init; }
    public StatusFilter? Statuses { get; init; }
    public DateRange? CreationDate { get; init; }
    public bool? WaitingForUser { get; init; }

    /// <summary>The admin page's form: dates are whole days (after = from its start, before = to its end).</summary>
    public static OrderSearchFilter FromForm(string? owner, IReadOnlyCollection<OrderStatus> statuses, DateTime? afterDay, DateTime? beforeDay, bool? waitingForUser) => new()
    {
        Owner = string.IsNullOrWhiteSpace(owner) ? null : owner,
        Statuses = statuses.Count > 0 ? new StatusFilter(statuses.ToList()) : null,
        CreationDate = afterDay is null && beforeDay is null ? null : new DateRange(
            afterDay is { } a ? DateTime.SpecifyKind(a.Date, DateTimeKind.Utc) : null,
            beforeDay is { } b ? DateTime.SpecifyKind(b.Date.AddDays(1).AddTicks(-1), DateTimeKind.Utc) : null),
        WaitingForUser = waitingForUser,
    };

    /// <summary>The filter of <c>GET /api/orders/csv</c> (a link the browser downloads); the inverse of <see cref="ToQueryString"/>.</summary>
    public static OrderSearchFilter FromQuery(string? owner, string[]? statuses, bool excludeStatuses, DateTime? after, DateTime? before, bool? waitingForUser) => new()
    {
        Owner = owner,
        Statuses = statuses is { Length: > 0 }
            ? new StatusFilter(statuses.Select(OrderStatusNames.ParseApiName).ToList(), excludeStatuses ? FilterMode.Exclude : FilterMode.Include)
            : null,
        CreationDate = after is null && before is null ? null : new DateRange(after, before),
        WaitingForUser = waitingForUser,
    };

    public string ToQueryString()
    {
        var query = new List<string>();
        if (Owner is { } owner) query.Add("owner=" + Uri.EscapeDataString(owner));
        if (Statuses is { } statuses)
        {
            query.AddRange(statuses.Values.Select(v => "statuses=" + v.ApiName()));
            if (statuses.Mode == FilterMode.Exclude) query.Add("excludeStatuses=true");
        }
        if (CreationDate?.After is { } after) query.Add("after=" + Uri.EscapeDataString(after.ToString("o", System.Globalization.CultureInfo.InvariantCulture)));
        if (CreationDate?.Before is { } before) query.Add("before=" + Uri.EscapeDataString(before.ToString("o", System.Globalization.CultureInfo.InvariantCulture)));
        if (WaitingForUser is { } waiting) query.Add("waitingForUser=" + (waiting ? "true" : "false"));
        return query.Count > 0 ? "?" + string.Join('&', query) : "";
    }
}

public sealed record CreateOrderRequest(string? Label);

public sealed record RestartOrderRequest(string? Label);

public sealed record ExpirationRequest(DateTime ExpirationDate);

public static class OrderMapping
{
    public static DatasetTaskDto ToDto(this DatasetTask task) => new(task.Id, task.DatasetId, task.DatasetLabel, task.ObjectsCount, task.FilesCount, task.FilesSize,
        Describe(task.FileFilter), task.Processing is null ? null : $"{task.Processing.ProcessBusinessId}({string.Join(", ", task.Processing.Parameters.Select(p => $"{p.Key}={p.Value}"))})");

    private static string? Describe(FileFilter? filter) => filter is null ? null
        : string.Join("; ", new[]
        {
            filter.FileTypes.Count > 0 ? "types: " + string.Join(", ", filter.FileTypes.Select(Catalog.DataTypeNames.ApiName)) : null,
            filter.FileNamePattern is { Length: > 0 } p ? "name: " + p : null,
        }.Where(x => x is not null));

    public static OrderDto ToDto(this Order order, bool callerIsAdmin)
    {
        var hasProcessing = order.DatasetTasks.Any(t => t.Processing is not null);
        var links = new List<LinkDto> { new("self", $"/api/user/orders/{order.Id}") };
        foreach (var action in OrderStateMachine.AllowedActions(order, callerIsAdmin, hasProcessing))
        {
            links.Add(action switch
            {
                OrderAction.Pause => new LinkDto("pause", $"/api/user/orders/pause/{order.Id}"),
                OrderAction.Resume => new LinkDto("resume", $"/api/user/orders/resume/{order.Id}"),
                OrderAction.Delete => new LinkDto("delete", $"/api/user/orders/{order.Id}"),
                OrderAction.Remove => new LinkDto("remove", $"/api/user/orders/remove/{order.Id}"),
                OrderAction.Retry => new LinkDto("retry", $"/api/user/orders/{order.Id}/retry"),
                OrderAction.Restart => new LinkDto("restart", $"/api/user/orders/{order.Id}/restart"),
                OrderAction.ExtendExpiration => new LinkDto("expiration", $"/api/orders/{order.Id}/expiration"),
                OrderAction.Metalink => new LinkDto("metalink", $"/api/user/orders/{order.Id}/metalink/download"),
                OrderAction.Download => new LinkDto("download", $"/api/user/orders/{order.Id}/download"),
                _ => throw new InvalidOperationException(),
            });
        }
        return new OrderDto(order.Id, order.Owner, order.Label, order.CreationDate, order.Status, order.StatusDate, order.ExpirationDate,
            order.PercentCompleted, order.FilesInErrorCount, order.AvailableFilesCount, order.WaitingForUser, order.TotalSize, order.ObjectsCount,
            order.FilesCount, order.Message, order.DatasetTasks.OrderBy(t => t.Id).Select(t => t.ToDto()).ToList(), links);
    }
}
