using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Catalog;

public sealed record DatasetDto(string Id, string Label, string Description, int ObjectsCount, AccessLevel AccessLevel);

public sealed record DataFileDto(string Name, long? Size, DataType DataType, string MimeType, StorageTier Tier, string? Checksum);

/// <summary>A catalog item as the caller sees it; <see cref="NotOrderableReason"/> says why the cart button is disabled.</summary>
public sealed record DataObjectDto(
    string Id, string ProviderId, string Label, string DatasetId, string DatasetLabel, DateTime AcquisitionDate,
    bool Orderable, string? NotOrderableReason, IReadOnlyList<DataFileDto> Files)
{
    public long FilesSize => Files.Sum(f => f.Size ?? 0);
}

public static class NotOrderableReasons
{
    public const string NotSignedIn = "NOT_SIGNED_IN";
    public const string NoDataAccess = "NO_DATA_ACCESS";
    public const string NoOrderableFile = "NO_ORDERABLE_FILE";
}

public enum CatalogSortField
{
    AcquisitionDate,
    Label,
    ProviderId,
    Dataset,
}

public sealed record CatalogSort(CatalogSortField Field, bool Descending)
{
    public static readonly CatalogSort Default = new(CatalogSortField.AcquisitionDate, true);

    /// <summary>Parses <c>field[,asc|desc]</c>.</summary>
    public static CatalogSort Parse(string? sort)
    {
        if (string.IsNullOrWhiteSpace(sort))
        {
            return Default;
        }
        var parts = sort.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 2 || !Enum.TryParse<CatalogSortField>(parts[0], ignoreCase: true, out var field) || int.TryParse(parts[0], out _) ||
            (parts.Length == 2 && parts[1].ToLowerInvariant() is not ("asc" or "desc")))
        {
            throw PortalException.BadRequest("BAD_SORT", "sort must be one of acquisitionDate, label, providerId, dataset, optionally followed by ,asc or ,desc.");
        }
        return new CatalogSort(field, parts.Length == 2 && parts[1].Equals("desc", StringComparison.OrdinalIgnoreCase));
    }
}

/// <summary>Browsing the catalog with the caller's rights; everything paged on the server.</summary>
public sealed class CatalogService(IDbContextFactory<PortalDbContext> dbFactory, CatalogAccess access)
{
    public async Task<IReadOnlyList<DatasetDto>> GetDatasetsAsync(Caller? caller, CancellationToken cancellationToken = default)
    {
        var levels = await access.GetLevelsAsync(caller, cancellationToken);
        var visible = levels.Where(kv => kv.Value >= AccessLevel.MetadataOnly).Select(kv => kv.Key).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var counts = await db.DataObjects.Where(o => visible.Contains(o.DatasetId))
            .GroupBy(o => o.DatasetId).Select(g => new { g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Key, x => x.Count, cancellationToken);
        var datasets = await db.Datasets.AsNoTracking().Where(d => visible.Contains(d.Id)).OrderBy(d => d.Label).ToListAsync(cancellationToken);
        return datasets.Select(d => new DatasetDto(d.Id, d.Label, d.Description, counts.GetValueOrDefault(d.Id), levels[d.Id])).ToList();
    }

    public async Task<PagedResult<DataObjectDto>> SearchAsync(Caller? caller, SelectionRequest search, PageRequest page, CatalogSort sort, CancellationToken cancellationToken = default)
    {
        page.Validate();
        if (search.From is { } from && search.To is { } to && from > to)
        {
            throw PortalException.BadRequest("BAD_DATE_RANGE", "from must be before to.");
        }
        var levels = await access.GetLevelsAsync(caller, cancellationToken);
        var visible = levels.Where(kv => kv.Value >= AccessLevel.MetadataOnly).Select(kv => kv.Key).ToList();

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.DataObjects.AsNoTracking().Matching(search, visible);
        var total = await query.LongCountAsync(cancellationToken);
        query = (sort.Field, sort.Descending) switch
        {
            (CatalogSortField.Label, false) => query.OrderBy(o => o.Label).ThenBy(o => o.Id),
            (CatalogSortField.Label, true) => query.OrderByDescending(o => o.Label).ThenBy(o => o.Id),
            (CatalogSortField.ProviderId, false) => query.OrderBy(o => o.ProviderId),
            (CatalogSortField.ProviderId, true) => query.OrderByDescending(o => o.ProviderId),
            (CatalogSortField.Dataset, false) => query.OrderBy(o => o.Dataset!.Label).ThenBy(o => o.Id),
            (CatalogSortField.Dataset, true) => query.OrderByDescending(o => o.Dataset!.Label).ThenBy(o => o.Id),
            (_, false) => query.OrderBy(o => o.AcquisitionDate).ThenBy(o => o.Id),
            (_, true) => query.OrderByDescending(o => o.AcquisitionDate).ThenBy(o => o.Id),
        };
        var rows = await query.Skip(page.Skip).Take(page.Size)
            .Select(o => new
            {
                o.Id, o.ProviderId, o.Label, o.DatasetId, DatasetLabel = o.Dataset!.Label, o.AcquisitionDate,
                Files = o.Files.OrderBy(f => f.Id).Select(f => new DataFileDto(f.Name, f.Size, f.DataType, f.MimeType, f.Tier, f.Checksum)).ToList(),
            })
            .ToListAsync(cancellationToken);

        var content = rows.Select(o =>
        {
            var reason = caller is null ? NotOrderableReasons.NotSignedIn
                : levels.GetValueOrDefault(o.DatasetId) != AccessLevel.Full ? NotOrderableReasons.NoDataAccess
                : !o.Files.Any(f => SelectionQuery.OrderableTypes.Contains(f.DataType)) ? NotOrderableReasons.NoOrderableFile
                : null;
            return new DataObjectDto(o.Id, o.ProviderId, o.Label, o.DatasetId, o.DatasetLabel, o.AcquisitionDate, reason is null, reason, o.Files);
        }).ToList();
        return PagedResult<DataObjectDto>.Of(content, page, total);
    }
}
