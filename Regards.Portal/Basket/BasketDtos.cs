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
}

/// <summary>REGARDS' <c>BasketDatedItemsSelectionDto</c>; the selection is echoed in REGARDS' request shape.</summary>
public sealed record BasketItemSelectionDto(
    DateTime Date, [property: JsonIgnore] SelectionRequest Request, int ObjectsCount, int FilesCount, long FilesSize, long Quota)
{
    public RegardsSelectionRequest SelectionRequest => RegardsSelectionRequest.From(Request, Date);
}

/// <summary>What an import of provider ids did: objects added, objects already in the cart, ids naming no object the
/// caller may order; the cart after it (null when no id named an orderable object).</summary>
public sealed record CartImportResult(int Added, int AlreadyPresent, int Unknown, BasketDto? Basket)
{
    public bool Found => Added + AlreadyPresent > 0;
}
