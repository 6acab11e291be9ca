namespace Regards.Portal.Catalog;

/// <summary>Marker for the catalog and cart pages' localised texts.</summary>
public sealed class CatalogText;
