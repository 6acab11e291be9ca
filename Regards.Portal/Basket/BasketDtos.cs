using Regards.Portal.Catalog;

namespace Regards.Portal.Basket;

public sealed record BasketDto(long Id, string Owner, IReadOnlyList<BasketDatasetSelectionDto> DatasetSelections)
{
    public int ObjectsCount => DatasetSelections.Sum(d => d.ObjectsCount);
    public int FilesCount => DatasetSelections.Sum(d => d.FilesCount);
    public long FilesSize => DatasetSelections.Sum(d => d.FilesSize);
    public bool IsEmpty => DatasetSelections.Count == 0;
}

public sealed record BasketDatasetSelectionDto(
    long Id, string DatasetId, string DatasetLabel, int ObjectsCount, int FilesCount, long FilesSize,
    string? FileSelectionDescription, string? ProcessDatasetDescription, FileFilter? FileFilter, ProcessingChoice? Processing,
    IReadOnlyList<BasketItemSelectionDto> ItemsSelections)
{
    /// <summary>Objects added twice are counted once at dataset level: the dated selections may add up to more.</summary>
    public bool HasDuplicates => ItemsSelections.Sum(i => i.ObjectsCount) > ObjectsCount;
}

public sealed record BasketItemSelectionDto(DateTime Date, int ObjectsCount, int FilesCount, long FilesSize, SelectionRequest SelectionRequest);

/// <summary>Body of <c>POST /api/order/basket/selection</c>.</summary>
public sealed record SelectionRequestBody(string? DatasetId, string? Q, DateTime? From, DateTime? To, List<string>? IncludeIds, List<string>? ExcludeIds)
{
    public SelectionRequest ToRequest() => new()
    {
        DatasetId = string.IsNullOrWhiteSpace(DatasetId) ? null : DatasetId,
        Q = string.IsNullOrWhiteSpace(Q) ? null : Q.Trim(),
        From = From?.ToUniversalTime(),
        To = To?.ToUniversalTime(),
        IncludeIds = IncludeIds is { Count: > 0 } ? IncludeIds.Distinct().ToList() : null,
        ExcludeIds = ExcludeIds is { Count: > 0 } ? ExcludeIds.Distinct().ToList() : null,
    };
}
