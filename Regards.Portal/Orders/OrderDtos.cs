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
    /// <summary>The actions the links allow (pages enable their buttons from these).</summary>
    [JsonIgnore]
    public IReadOnlySet<string> Allowed => Links.Select(l => l.Rel).ToHashSet();
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
