using Regards.Portal.Catalog;

namespace Regards.Portal.Basket;

/// <summary>The cart of one user. Detached (<see cref="OrderId"/> set) when ordered, kept for restart.</summary>
public class Basket
{
    public long Id { get; set; }
    public required string Owner { get; set; }
    public long? OrderId { get; set; }
    public List<BasketDatasetSelection> DatasetSelections { get; set; } = [];
}

public class BasketDatasetSelection
{
    public long Id { get; set; }
    public long BasketId { get; set; }
    public Basket? Basket { get; set; }
    public required string DatasetId { get; set; }
    public required string DatasetLabel { get; set; }
    public int ObjectsCount { get; set; }
    public int FilesCount { get; set; }
    public long FilesSize { get; set; }

    /// <summary>REGARDS' quota: the raw-data files stored by the portal (external references are not counted).</summary>
    public long Quota { get; set; }

    /// <summary>Optional file filter; never together with <see cref="Processing"/>.</summary>
    public FileFilter? FileFilter { get; set; }

    /// <summary>Optional processing; never together with <see cref="FileFilter"/>.</summary>
    public ProcessingChoice? Processing { get; set; }

    public List<BasketItemSelection> ItemSelections { get; set; } = [];
}

/// <summary>One "add to cart" action, identified by its (server) date within its dataset selection.</summary>
public class BasketItemSelection
{
    public long Id { get; set; }
    public long DatasetSelectionId { get; set; }
    public BasketDatasetSelection? DatasetSelection { get; set; }
    public DateTime Date { get; set; }
    public required SelectionRequest Request { get; set; }
    public int ObjectsCount { get; set; }
    public int FilesCount { get; set; }
    public long FilesSize { get; set; }
    public long Quota { get; set; }
}

public sealed record FileFilter
{
    public IReadOnlyList<DataType> FileTypes { get; init; } = [];
    public string? FileNamePattern { get; init; }
}

public sealed record ProcessingChoice
{
    public required string ProcessBusinessId { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}
