using Microsoft.Extensions.Localization;

namespace Regards.Portal.Catalog;

/// <summary>Data types and file filters in words, in the current UI language ("Raw data", "Données brutes"), for the
/// pages; the API keeps REGARDS' names (<c>RAWDATA</c>, <c>QUICKLOOK_SD</c>).</summary>
public static class DataTypeWords
{
    public static string Name(this IStringLocalizer<CatalogText> L, DataType type) => L["DataType_" + type.ApiName()];

    public static string Names(this IStringLocalizer<CatalogText> L, IEnumerable<DataType> types) => string.Join(", ", types.Select(t => L.Name(t)));

    /// <summary>"Types: Raw data; file name: .*\.nc$" (null without a filter).</summary>
    public static string? Describe(this IStringLocalizer<CatalogText> L, Basket.FileFilter? filter) => filter is null ? null
        : string.Join("; ", new[]
        {
            filter.FileTypes.Count > 0 ? string.Format(L["FilterTypes"], L.Names(filter.FileTypes)) : null,
            filter.FileNamePattern is { Length: > 0 } p ? string.Format(L["FilterName"], p) : null,
        }.Where(x => x is not null));
}
