namespace Regards.Portal.Catalog;

/// <summary>
/// One mechanism for "add this item", "add these checked items" and "add the whole result of this search":
/// a search (dataset, text, acquisition dates) optionally narrowed to <see cref="IncludeIds"/> and minus <see cref="ExcludeIds"/>.
/// </summary>
public sealed record SelectionRequest
{
    public string? DatasetId { get; init; }
    public string? Q { get; init; }
    public DateTime? From { get; init; }
    public DateTime? To { get; init; }
    public IReadOnlyList<string>? IncludeIds { get; init; }
    public IReadOnlyList<string>? ExcludeIds { get; init; }
}
