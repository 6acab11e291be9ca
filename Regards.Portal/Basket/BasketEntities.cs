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

/// <summary>
/// One object of a dataset selection, with the dated selection that first brought it: what the cart holds, written as
/// it is added, so that adding a selection counts only the objects it adds (never re-querying the earlier ones) and an
/// object added twice counts once. Kept while the cart is the user's current one; once an order takes it nothing reads
/// them (the order resolves its selections again, with the owner's rights at that time) and <see cref="BasketObjectSweeper"/>
/// deletes them.
/// </summary>
public class BasketObject
{
    public long DatasetSelectionId { get; set; }
    public required string DataObjectId { get; set; }
    public DateTime ItemDate { get; set; }
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
    [System.Text.Json.Serialization.JsonConverter(typeof(FileTypesConverter))]
    public IReadOnlyList<DataType> FileTypes { get; init; } = [];
    public string? FileNamePattern { get; init; }
}

public sealed record ProcessingChoice
{
    public required string ProcessBusinessId { get; init; }
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// File types as REGARDS' clients write them: REGARDS' <c>DataTypeLight</c> (<c>RAWDATA</c>, <c>QUICKLOOK</c> for every
/// quicklook size) as well as the sized names; the three quicklook sizes together are written back as <c>QUICKLOOK</c>.
/// Numbers (how the first stored filters were written) are still read.
/// </summary>
public sealed class FileTypesConverter : System.Text.Json.Serialization.JsonConverter<IReadOnlyList<DataType>>
{
    private static readonly DataType[] Quicklooks = [DataType.QuicklookSd, DataType.QuicklookMd, DataType.QuicklookHd];
    private static readonly Dictionary<string, DataType> ByName = Enum.GetValues<DataType>().ToDictionary(t => t.ApiName(), StringComparer.OrdinalIgnoreCase);

    /// <summary>The types a REGARDS name stands for (<c>QUICKLOOK</c>: every size), or null for an unknown name.</summary>
    public static IReadOnlyList<DataType>? TypesNamed(string? name) =>
        string.Equals(name, "QUICKLOOK", StringComparison.OrdinalIgnoreCase) ? Quicklooks
        : ByName.TryGetValue(name ?? "", out var type) ? [type]
        : null;

    public override IReadOnlyList<DataType> Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        if (reader.TokenType != System.Text.Json.JsonTokenType.StartArray)
        {
            throw new System.Text.Json.JsonException("fileTypes must be an array.");
        }
        var types = new List<DataType>();
        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
        {
            if (reader.TokenType == System.Text.Json.JsonTokenType.Number && Enum.IsDefined((DataType)reader.GetInt32()))
            {
                types.Add((DataType)reader.GetInt32());
                continue;
            }
            var name = reader.TokenType == System.Text.Json.JsonTokenType.String ? reader.GetString() : null;
            types.AddRange(TypesNamed(name) ?? throw new System.Text.Json.JsonException($"Unknown file type '{name}'."));
        }
        return types.Distinct().ToList();
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, IReadOnlyList<DataType> value, System.Text.Json.JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        var allQuicklooks = Quicklooks.All(value.Contains);
        foreach (var type in value.Where(t => !allQuicklooks || !Quicklooks.Contains(t)))
        {
            writer.WriteStringValue(type.ApiName());
        }
        if (allQuicklooks)
        {
            writer.WriteStringValue("QUICKLOOK");
        }
        writer.WriteEndArray();
    }
}
