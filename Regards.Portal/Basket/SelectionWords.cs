using System.Globalization;
using Microsoft.Extensions.Localization;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Basket;

/// <summary>What a dated selection of the cart holds, read from the request that made it.</summary>
public sealed record SelectionSummary(string? Search, DateTime? From, DateTime? To, int? ChosenCount, int ExcludedCount)
{
    /// <summary>No search text, no dates, no chosen ids: the whole dataset.</summary>
    public bool WholeDataset => Search is null && From is null && To is null && ChosenCount is null;

    public static SelectionSummary Of(SelectionRequest request) => new(
        string.IsNullOrWhiteSpace(request.Q) ? null : request.Q.Trim(), request.From, request.To,
        request.IncludeIds is { Count: > 0 } ids ? ids.Count : null, request.ExcludeIds?.Count ?? 0);
}

/// <summary>A dated selection in words ("Search “SSH_001” · 12 objects", "3 chosen objects"), in the current UI language.</summary>
public static class SelectionWords
{
    public static string Describe(this IStringLocalizer<CatalogText> L, BasketItemSelectionDto item)
    {
        var summary = SelectionSummary.Of(item.Request);
        var parts = new List<string>();
        if (summary.ChosenCount is { } chosen)
        {
            parts.Add(L.Plural("SelectionChosen", chosen));
        }
        if (summary.Search is { } search)
        {
            parts.Add(string.Format(L["SelectionSearch"], search));
        }
        if (summary.From is not null || summary.To is not null)
        {
            parts.Add(string.Format(L["SelectionAcquired"], Day(summary.From), Day(summary.To)));
        }
        if (summary.WholeDataset)
        {
            parts.Add(L["SelectionWholeDataset"]);
        }
        if (summary.ExcludedCount > 0)
        {
            parts.Add(L.Plural("SelectionExcluded", summary.ExcludedCount));
        }
        if (summary.ChosenCount != item.ObjectsCount)
        {
            parts.Add(L.Plural("SelectionObjects", item.ObjectsCount));
        }
        return string.Join(" · ", parts);
    }

    private static string Day(DateTime? date) => date?.ToString("d", CultureInfo.CurrentCulture) ?? "…";
}
