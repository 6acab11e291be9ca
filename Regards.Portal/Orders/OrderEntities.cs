using System.Text.Json.Serialization;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

public enum OrderStatus
{
    [JsonStringEnumMemberName("PENDING")] Pending,
    [JsonStringEnumMemberName("RUNNING")] Running,
    [JsonStringEnumMemberName("PAUSED")] Paused,
    [JsonStringEnumMemberName("DONE")] Done,
    [JsonStringEnumMemberName("DONE_WITH_WARNING")] DoneWithWarning,
    [JsonStringEnumMemberName("FAILED")] Failed,
    [JsonStringEnumMemberName("EXPIRED")] Expired,
    [JsonStringEnumMemberName("DELETED")] Deleted,
    [JsonStringEnumMemberName("ERROR")] Error,
}

public enum OrderFileState
{
    [JsonStringEnumMemberName("PENDING")] Pending,
    [JsonStringEnumMemberName("AVAILABLE")] Available,
    [JsonStringEnumMemberName("DOWNLOADED")] Downloaded,
    [JsonStringEnumMemberName("DOWNLOAD_ERROR")] DownloadError,
    [JsonStringEnumMemberName("PROCESSING_ERROR")] ProcessingError,
    [JsonStringEnumMemberName("ERROR")] Error,
}

/// <summary>Where a sub-order's background job stands; the row itself is the job (claimed with a lease).</summary>
public enum SubOrderJobState
{
    /// <summary>Waiting for a slot of the owner's throttle.</summary>
    Queued,
    /// <summary>Claimed by an engine instance, files being made available.</summary>
    Staging,
    /// <summary>No file pending any more; holds a throttle slot while files wait for the user.</summary>
    Staged,
    /// <summary>All files final.</summary>
    Ended,
    /// <summary>Its order is paused; resume puts it back in the queue.</summary>
    Suspended,
}

public class Order : IVersioned
{
    public long Id { get; set; }
    public required string Owner { get; set; }
    public required string Label { get; set; }
    public DateTime CreationDate { get; set; }
    public OrderStatus Status { get; set; }
    public DateTime StatusDate { get; set; }
    public DateTime? ExpirationDate { get; set; }
    public int PercentCompleted { get; set; }
    public int FilesInErrorCount { get; set; }
    public int AvailableFilesCount { get; set; }

    /// <summary>AVAILABLE files the zip can hold: external files are links, never zipped (the zip answers 204 without any).</summary>
    public int ZippableFilesCount { get; set; }
    public bool WaitingForUser { get; set; }
    public long TotalSize { get; set; }
    public int ObjectsCount { get; set; }
    public int FilesCount { get; set; }
    public string? Message { get; set; }

    /// <summary>Placed by an admin for an application: short sub-order duration, higher priority.</summary>
    public bool IsApplicationOrder { get; set; }

    /// <summary>The cart this order was made from (kept for restart).</summary>
    public long? BasketId { get; set; }

    /// <summary>When the asynchronous completion created the tasks and sub-orders (null while PENDING).</summary>
    public DateTime? CompletionDate { get; set; }

    /// <summary>The "expires tomorrow" e-mail was sent.</summary>
    public bool ExpiryWarningSent { get; set; }

    /// <summary>Lease of the asynchronous completion job while the order is PENDING.</summary>
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }

    /// <summary>Optimistic concurrency token, bumped on every save.</summary>
    public long Version { get; set; }

    public List<DatasetTask> DatasetTasks { get; set; } = [];
}

public class DatasetTask
{
    public long Id { get; set; }
    public long OrderId { get; set; }
    public Order? Order { get; set; }
    public required string DatasetId { get; set; }
    public required string DatasetLabel { get; set; }
    public List<SelectionRequest> SelectionRequests { get; set; } = [];
    public FileFilter? FileFilter { get; set; }
    public ProcessingChoice? Processing { get; set; }
    public int ObjectsCount { get; set; }
    public int FilesCount { get; set; }
    public long FilesSize { get; set; }
}

/// <summary>A REGARDS "files task": a batch of order files staged together, shown as "sub-order i of n".</summary>
public class SubOrder : IVersioned
{
    public long Id { get; set; }
    public long OrderId { get; set; }
    public Order? Order { get; set; }
    public required string Owner { get; set; }
    public long? DatasetTaskId { get; set; }
    public int Sequence { get; set; }
    public bool External { get; set; }
    public bool Ended { get; set; }
    public bool WaitingForUser { get; set; }
    public SubOrderJobState JobState { get; set; }

    /// <summary>Higher runs first (application orders).</summary>
    public int Priority { get; set; }
    public DateTime QueuedAt { get; set; }
    public DateTime? StagingStartedAt { get; set; }

    /// <summary>When its files became available (reminders count from here).</summary>
    public DateTime? StagedAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }
    public int Attempts { get; set; }
    public long Version { get; set; }
}

public class OrderFile : IVersioned
{
    public long Id { get; set; }

    /// <summary>Stable id used in public URLs.</summary>
    public Guid PublicId { get; set; }
    public long OrderId { get; set; }
    public long SubOrderId { get; set; }
    public long DatasetTaskId { get; set; }
    public required string DataObjectId { get; set; }
    public required string ProviderId { get; set; }
    public required string Name { get; set; }
    public long Size { get; set; }
    public string MimeType { get; set; } = "application/octet-stream";
    public string? Checksum { get; set; }

    /// <summary>
    /// MD5, lower-case hex: a hash type that REGARDS' metalink.xsd, the REGARDS Downloader and aria2 all accept. The
    /// SHA-256 of <see cref="Checksum"/> is not: the xsd spells it "sha256", which the Downloader does not read.
    /// </summary>
    public string? Md5 { get; set; }
    public DataType DataType { get; set; }
    public StorageTier Tier { get; set; }
    public required string Location { get; set; }
    public OrderFileState State { get; set; }
    public string? DownloadError { get; set; }

    /// <summary>When the file was last downloaded completely (dashboard volumes).</summary>
    public DateTime? DownloadedAt { get; set; }
    public long Version { get; set; }
}
