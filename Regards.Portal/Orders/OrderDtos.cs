using System.Text.Json.Serialization;
using Regards.Portal.Basket;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

public sealed record LinkDto(string Rel, string Href);

/// <summary>REGARDS' <c>DatasetTaskDto</c>; <c>datasetIpid</c> (the dataset URN) is ours, named as REGARDS names it in the basket.</summary>
public sealed record DatasetTaskDto(long Id, [property: JsonPropertyName("datasetIpid")] string DatasetId, string DatasetLabel, int ObjectsCount, int FilesCount, long FilesSize,
    [property: JsonPropertyName("processDatasetDescription")] ProcessingChoice? Processing,
    [property: JsonPropertyName("fileSelectionDescription")] FileFilter? FileFilter);

public sealed record OrderDto(
    long Id, string Owner, string Label, DateTime CreationDate, OrderStatus Status, DateTime StatusDate, DateTime? ExpirationDate,
    int PercentCompleted, int FilesInErrorCount, int AvailableFilesCount, bool WaitingForUser, long TotalSize, int ObjectsCount,
    int FilesCount, string? Message, IReadOnlyList<DatasetTaskDto> DatasetTasks, [property: JsonIgnore] IReadOnlyList<LinkDto> Links)
{
    /// <summary>REGARDS' rels first, in REGARDS' order (<c>OrderController.toResource</c>), then the portal's own.</summary>
    private static readonly string[] RelOrder = ["self", "list", "download", "pause", "resume", "delete", "remove", "restart", "retry", "metalink", "expiration"];

    /// <summary>The REGARDS envelope: this order with its allowed actions as absolute links (plus <c>list</c>, as REGARDS).</summary>
    public EntityModel<OrderDto> ToModel(Hateoas hateoas) => new(this,
        Links.Append(new LinkDto("list", "/api/user/orders"))
            .OrderBy(l => Array.IndexOf(RelOrder, l.Rel) is var i and >= 0 ? i : RelOrder.Length)
            .Select(l => hateoas.Link(l.Rel, l.Href)).ToList());

    /// <summary>Whether the links allow this action now (pages enable their buttons from these).</summary>
    public bool Allows(string rel) => Links.Any(l => l.Rel == rel);

    /// <summary>The pages' "Cancel order" (<see cref="OrderService.CancelAsync"/>: DELETED at once).</summary>
    [JsonIgnore]
    public bool CanCancel => OrderStateMachine.Allows(Status, OrderAction.Cancel);

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

    /// <summary>REGARDS' admin client sends it as a string: "true", or "" for false.</summary>
    [JsonConverter(typeof(LenientBooleanConverter))]
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
    public static DatasetTaskDto ToDto(this DatasetTask task) =>
        new(task.Id, task.DatasetId, task.DatasetLabel, task.ObjectsCount, task.FilesCount, task.FilesSize, task.Processing, task.FileFilter);

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

/// <summary>A boolean written as JSON true/false or as the strings "true", "false" and "" (false), as Gson reads them.</summary>
public sealed class LenientBooleanConverter : JsonConverter<bool?>
{
    public override bool? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options) => reader.TokenType switch
    {
        System.Text.Json.JsonTokenType.True => true,
        System.Text.Json.JsonTokenType.False => false,
        System.Text.Json.JsonTokenType.Null => null,
        System.Text.Json.JsonTokenType.String => reader.GetString()?.Trim().ToLowerInvariant() switch
        {
            "true" => true,
            "false" or "" => false,
            _ => throw new System.Text.Json.JsonException("waitingForUser must be true or false."),
        },
        _ => throw new System.Text.Json.JsonException("waitingForUser must be true or false."),
    };

    public override void Write(System.Text.Json.Utf8JsonWriter writer, bool? value, System.Text.Json.JsonSerializerOptions options)
    {
        if (value is { } b) writer.WriteBooleanValue(b); else writer.WriteNullValue();
    }
}
