using System.Text.Json.Serialization;
using Regards.Portal.Catalog;

namespace Regards.Portal.Basket;

/// <summary>REGARDS' <c>BasketDto</c> (id, owner, datasetSelections, quota); the totals are the portal's additions.</summary>
public sealed record BasketDto(long Id, string Owner, IReadOnlyList<BasketDatasetSelectionDto> DatasetSelections)
{
    /// <summary>REGARDS' quota: raw-data files that count against a download quota (external references do not).</summary>
    public long Quota => DatasetSelections.Sum(d => d.Quota);
    public int ObjectsCount => DatasetSelections.Sum(d => d.ObjectsCount);
    public int FilesCount => DatasetSelections.Sum(d => d.FilesCount);
    public long FilesSize => DatasetSelections.Sum(d => d.FilesSize);
    [JsonIgnore] public bool IsEmpty => DatasetSelections.Count == 0;
}

/// <summary>REGARDS' <c>BasketDatasetSelectionDto</c>: the dataset URN is <c>datasetIpid</c>, the filter and the processing are objects.</summary>
public sealed record BasketDatasetSelectionDto(
    long Id, [property: JsonPropertyName("datasetIpid")] string DatasetId, string DatasetLabel, int ObjectsCount, int FilesCount, long FilesSize, long Quota,
    IReadOnlyList<BasketItemSelectionDto> ItemsSelections,
    [property: JsonPropertyName("processDatasetDescription")] ProcessingChoice? Processing,
    [property: JsonPropertyName("fileSelectionDescription")] FileFilter? FileFilter)
{
    /// <summary>Objects added twice are counted once at dataset level: the dated selections may add up to more.</summary>
    public bool HasDuplicates => ItemsSelections.Sum(i => i.ObjectsCount) > ObjectsCount;

    [JsonIgnore] public string? FileFilterText => FileFilter.Describe();
    [JsonIgnore] public string? ProcessingText => Processing.Describe();
}

/// <summary>REGARDS' <c>BasketDatedItemsSelectionDto</c>; the selection is echoed in REGARDS' request shape.</summary>
public sealed record BasketItemSelectionDto(
    DateTime Date, [property: JsonIgnore] SelectionRequest Request, int ObjectsCount, int FilesCount, long FilesSize, long Quota)
{
    public RegardsSelectionRequest SelectionRequest => RegardsSelectionRequest.From(Request, Date);
}

public static class BasketDescriptions
{
    /// <summary>A one-line reading of a file filter for the pages (the API sends the object).</summary>
    public static string? Describe(this FileFilter? filter) => filter is null ? null
        : string.Join("; ", new[]
        {
            filter.FileTypes.Count > 0 ? "types: " + string.Join(", ", filter.FileTypes.Select(t => t.ApiName())) : null,
            filter.FileNamePattern is { Length: > 0 } p ? "name: " + p : null,
        }.Where(x => x is not null));

    public static string? Describe(this ProcessingChoice? processing) => processing is null ? null
        : $"{processing.ProcessBusinessId}({string.Join(", ", processing.Parameters.Select(p => $"{p.Key}={p.Value}"))})";
}
