using System.Text.Json.Serialization;

namespace Regards.Portal.Catalog;

public enum StorageTier
{
    Online,
    Nearline,
    External,
}

public enum AccessLevel
{
    None = 0,
    MetadataOnly = 1,
    Full = 2,
}

public enum DataType
{
    [JsonStringEnumMemberName("RAWDATA")] RawData,
    [JsonStringEnumMemberName("QUICKLOOK_SD")] QuicklookSd,
    [JsonStringEnumMemberName("QUICKLOOK_MD")] QuicklookMd,
    [JsonStringEnumMemberName("QUICKLOOK_HD")] QuicklookHd,
}

public static class DataTypeNames
{
    /// <summary>The REGARDS name of a data type, as the API writes it.</summary>
    public static string ApiName(this DataType type) => type switch
    {
        DataType.RawData => "RAWDATA",
        DataType.QuicklookSd => "QUICKLOOK_SD",
        DataType.QuicklookMd => "QUICKLOOK_MD",
        DataType.QuicklookHd => "QUICKLOOK_HD",
        _ => type.ToString(),
    };
}

/// <summary>A collection in the catalog, e.g. "SWOT L2 ocean heights".</summary>
public class Dataset
{
    public required string Id { get; set; }
    public required string Label { get; set; }
    public string Description { get; set; } = "";

    /// <summary>What every signed-in user may do with this dataset; groups can only raise it.</summary>
    public AccessLevel PublicAccess { get; set; } = AccessLevel.Full;
}

/// <summary>One catalog item of a dataset (a REGARDS "feature").</summary>
public class DataObject
{
    public required string Id { get; set; }
    public required string ProviderId { get; set; }
    public required string Label { get; set; }
    public required string DatasetId { get; set; }
    public Dataset? Dataset { get; set; }
    public DateTime AcquisitionDate { get; set; }
    public string? Platform { get; set; }
    public string? Instrument { get; set; }
    public string? ProcessingLevel { get; set; }
    public List<DataFile> Files { get; set; } = [];
}

public class DataFile
{
    public long Id { get; set; }
    public required string DataObjectId { get; set; }
    public DataObject? DataObject { get; set; }
    public required string Name { get; set; }

    /// <summary>Bytes; required for Online and Nearline files.</summary>
    public long? Size { get; set; }
    public string MimeType { get; set; } = "application/octet-stream";
    public DataType DataType { get; set; }

    /// <summary>SHA-256, lower-case hex.</summary>
    public string? Checksum { get; set; }
    public string? Md5 { get; set; }
    public StorageTier Tier { get; set; }

    /// <summary>Path relative to the storage root (Online/Nearline) or an absolute URL (External).
    /// Comes only from the catalog, never from user input.</summary>
    public required string Location { get; set; }
}

public class AccessGroup
{
    public required string Name { get; set; }
    public string Description { get; set; } = "";
}

/// <summary>Membership of a user (by e-mail, as orders are owned) in an access group.</summary>
public class UserAccessGroup
{
    public required string UserEmail { get; set; }
    public required string GroupName { get; set; }
}

public class DatasetAccessRight
{
    public required string GroupName { get; set; }
    public required string DatasetId { get; set; }
    public AccessLevel Level { get; set; }
}
