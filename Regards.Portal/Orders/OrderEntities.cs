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

/// <summary>
/// The order aggregate's root. Its state changes only through its methods, each checked by the one transition table
/// (<see cref="OrderStateMachine"/>); whole sets of rows move through <see cref="OrderBulk"/>'s named methods. State
/// properties are init-only so that a row can be built in any state (the database, seeds, tests) but never edited.
/// </summary>
public class Order : IVersioned
{
    // Backing fields: EF reads and writes them (its convention), the behaviour methods below change them.
    private OrderStatus status;
    private DateTime statusDate;
    private DateTime? expirationDate;
    private int percentCompleted;
    private int filesInErrorCount;
    private int availableFilesCount;
    private int zippableFilesCount;
    private bool waitingForUser;
    private long totalSize;
    private int objectsCount;
    private int filesCount;
    private string? message;
    private DateTime? completionDate;
    private bool expiryWarningSent;
    private string? leaseOwner;
    private DateTime? leaseExpiresAt;
    private int completionAttempts;

    /// <summary>Claims of a completion that never finished (crashes, restarts) before the order is given up as ERROR.</summary>
    public const int MaxCompletionAttempts = 5;

    public long Id { get; set; }
    public required string Owner { get; init; }
    public required string Label { get; init; }
    public DateTime CreationDate { get; init; }
    public OrderStatus Status { get => status; init => status = value; }
    public DateTime StatusDate { get => statusDate; init => statusDate = value; }
    public DateTime? ExpirationDate { get => expirationDate; init => expirationDate = value; }
    public int PercentCompleted { get => percentCompleted; init => percentCompleted = value; }
    public int FilesInErrorCount { get => filesInErrorCount; init => filesInErrorCount = value; }
    public int AvailableFilesCount { get => availableFilesCount; init => availableFilesCount = value; }

    /// <summary>AVAILABLE files the zip can hold: external files are links, never zipped (the zip answers 204 without any).</summary>
    public int ZippableFilesCount { get => zippableFilesCount; init => zippableFilesCount = value; }
    public bool WaitingForUser { get => waitingForUser; init => waitingForUser = value; }
    public long TotalSize { get => totalSize; init => totalSize = value; }
    public int ObjectsCount { get => objectsCount; init => objectsCount = value; }
    public int FilesCount { get => filesCount; init => filesCount = value; }
    public string? Message { get => message; init => message = value; }

    /// <summary>Placed by an admin for an application: short sub-order duration, higher priority.</summary>
    public bool IsApplicationOrder { get; init; }

    /// <summary>The cart this order was made from (kept for restart).</summary>
    public long? BasketId { get; init; }

    /// <summary>When the asynchronous completion created the tasks and sub-orders (null while PENDING).</summary>
    public DateTime? CompletionDate { get => completionDate; init => completionDate = value; }

    /// <summary>The "expires tomorrow" e-mail was sent.</summary>
    public bool ExpiryWarningSent { get => expiryWarningSent; init => expiryWarningSent = value; }

    /// <summary>Lease of the asynchronous completion job while the order is PENDING.</summary>
    public string? LeaseOwner { get => leaseOwner; init => leaseOwner = value; }
    public DateTime? LeaseExpiresAt { get => leaseExpiresAt; init => leaseExpiresAt = value; }

    /// <summary>How many times an engine claimed its completion (counted by the claim itself).</summary>
    public int CompletionAttempts { get => completionAttempts; init => completionAttempts = value; }

    /// <summary>Optimistic concurrency token, bumped on every save.</summary>
    public long Version { get; set; }

    public List<DatasetTask> DatasetTasks { get; set; } = [];

    /// <summary>DELETED, EXPIRED, FAILED, ERROR: nothing will happen to it any more, and it waits for no one.</summary>
    public bool IsFinal => status is OrderStatus.Deleted or OrderStatus.Expired or OrderStatus.Failed or OrderStatus.Error;

    /// <summary>A new order of a cart, PENDING until the engine completes it.</summary>
    public static Order Place(string owner, string label, long basketId, bool isApplicationOrder, DateTime now) => new()
    {
        Owner = owner, Label = label, CreationDate = now, Status = OrderStatus.Pending, StatusDate = now,
        IsApplicationOrder = isApplicationOrder, BasketId = basketId,
    };

    public void Pause(DateTime now) => MoveTo(OrderAction.Pause, now);

    /// <summary>Back to RUNNING, or to PENDING when it was paused before its completion ran (the completion then runs).</summary>
    public void Resume(DateTime now)
    {
        MoveTo(OrderAction.Resume, now);
        if (completionDate is null)
        {
            status = OrderStatus.Pending;
        }
    }

    /// <summary>REGARDS' delete (a stopped order) or the pages' cancel (any live order): DELETED, waiting for no one.</summary>
    public void Delete(OrderAction action, DateTime now)
    {
        if (action is not (OrderAction.Delete or OrderAction.Cancel))
        {
            throw new ArgumentOutOfRangeException(nameof(action));
        }
        MoveTo(action, now);
        waitingForUser = false;
        leaseOwner = null;
        leaseExpiresAt = null;
    }

    /// <summary>Its files in error go back to PENDING (in new sub-orders, <see cref="OrderBulk.MoveFilesToSubOrderAsync"/>).</summary>
    public void Retry(DateTime now)
    {
        MoveTo(OrderAction.Retry, now);
        message = null;
    }

    public void ExtendExpiration(DateTime expiration, DateTime now)
    {
        OrderStateMachine.Apply(status, OrderAction.ExtendExpiration);
        if (expiration <= now)
        {
            throw Infrastructure.PortalException.BadRequest("BAD_EXPIRATION", "The new expiration date must be in the future.");
        }
        expirationDate = expiration;
        expiryWarningSent = false;
    }

    /// <summary>
    /// The completion's outcome (<see cref="OrderAction.CompletionFailed"/>, <see cref="OrderAction.CompletionFoundNothing"/>,
    /// <see cref="OrderAction.CompletionExternalOnly"/>, <see cref="OrderAction.CompletionCreatedSubOrders"/>). An order paused
    /// while it was being completed stays PAUSED with its sub-orders; its lease is given back.
    /// </summary>
    public void Complete(OrderAction outcome, int objects, int files, long size, DateTime expiration, string? text, DateTime now)
    {
        if (outcome is not (OrderAction.CompletionFailed or OrderAction.CompletionFoundNothing or OrderAction.CompletionExternalOnly or OrderAction.CompletionCreatedSubOrders))
        {
            throw new ArgumentOutOfRangeException(nameof(outcome));
        }
        var stayPaused = status == OrderStatus.Paused && outcome == OrderAction.CompletionCreatedSubOrders;
        if (!stayPaused)
        {
            MoveTo(outcome, now);
        }
        objectsCount = objects;
        filesCount = files;
        totalSize = size;
        completionDate = now;
        expirationDate = expiration;
        message = text;
        leaseOwner = null;
        leaseExpiresAt = null;
    }

    /// <summary>
    /// Its completion was claimed <see cref="MaxCompletionAttempts"/> times and never finished: something is wrong
    /// beyond the order's own data (which would have made it FAILED). ERROR, and no engine tries again.
    /// </summary>
    public void GiveUpCompletion(DateTime now)
    {
        MoveTo(OrderAction.InternalFailure, now);
        message = $"The order could not be prepared after {completionAttempts} attempts (internal error); an administrator can see why in the portal's logs.";
        leaseOwner = null;
        leaseExpiresAt = null;
    }

    /// <summary>
    /// The figures its files give (<see cref="OrderProgress"/>); at 100 % a RUNNING or PAUSED order ends (DONE,
    /// DONE_WITH_WARNING or FAILED). A deleted order waits for no one; an expired or broken one is left as it is. True
    /// when it just ended.
    /// </summary>
    public bool ApplyProgress(OrderFigures figures, bool anySubOrderWaiting, DateTime now)
    {
        // An expired or broken order has no files left to count.
        if (status is OrderStatus.Expired or OrderStatus.Error)
        {
            return false;
        }
        percentCompleted = figures.TotalBytes == 0 ? 100 : (int)(100 * figures.DoneBytes / figures.TotalBytes);
        filesInErrorCount = figures.InError;
        availableFilesCount = figures.Available;
        zippableFilesCount = figures.Zippable;
        // A deleted order's figures stay true (a download may end after the delete), but it waits for no one.
        waitingForUser = status != OrderStatus.Deleted && anySubOrderWaiting;
        if (figures.Pending == 0 && figures.Files > 0 && OrderStateMachine.Allows(status, OrderAction.ProgressReachedHundred))
        {
            status = OrderStateMachine.Finished(figures.Files, figures.InError);
            statusDate = now;
            return true;
        }
        return false;
    }

    private void MoveTo(OrderAction action, DateTime now)
    {
        if (OrderStateMachine.Apply(status, action) is { } target)
        {
            status = target;
            statusDate = now;
        }
    }
}

/// <summary>What an order's files say, in one aggregate query (<see cref="OrderProgress.RecomputeAsync"/>).</summary>
public readonly record struct OrderFigures(int Files, int Pending, int Available, int Zippable, int InError, long TotalBytes, long DoneBytes);

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

/// <summary>
/// A REGARDS "files task": a batch of order files staged together, shown as "sub-order i of n". Its one state is
/// <see cref="JobState"/> (<see cref="SubOrderStateMachine"/>); <see cref="Ended"/> and <see cref="WaitingForUser"/> are
/// stored for queries and written only with it. Single rows change through its methods, sets of rows and lease claims
/// through <see cref="OrderBulk"/>.
/// </summary>
public class SubOrder : IVersioned
{
    private SubOrderJobState jobState;
    private bool ended;
    private bool waitingForUser;
    private DateTime? stagedAt;
    private string? leaseOwner;
    private DateTime? leaseExpiresAt;

    public long Id { get; set; }
    public long OrderId { get; init; }
    public Order? Order { get; init; }
    public required string Owner { get; init; }
    public long? DatasetTaskId { get; init; }
    public int Sequence { get; init; }
    public bool External { get; init; }

    /// <summary>Mirrors <c>JobState == Ended</c>.</summary>
    public bool Ended { get => ended; init => ended = value; }

    /// <summary>STAGED, not external, nothing pending and files available: the user has to download them.</summary>
    public bool WaitingForUser { get => waitingForUser; init => waitingForUser = value; }
    public SubOrderJobState JobState { get => jobState; init => jobState = value; }

    /// <summary>Higher runs first (application orders).</summary>
    public int Priority { get; init; }
    public DateTime QueuedAt { get; init; }
    public DateTime? StagingStartedAt { get; init; }

    /// <summary>When its files became available (reminders count from here).</summary>
    public DateTime? StagedAt { get => stagedAt; init => stagedAt = value; }
    public string? LeaseOwner { get => leaseOwner; init => leaseOwner = value; }
    public DateTime? LeaseExpiresAt { get => leaseExpiresAt; init => leaseExpiresAt = value; }
    public int Attempts { get; init; }
    public long Version { get; set; }

    /// <summary>A sub-order of files to stage (or, external, of links the user can take at once).</summary>
    public static SubOrder Create(Order order, long datasetTaskId, int sequence, bool external, DateTime now) => new()
    {
        OrderId = order.Id, Owner = order.Owner, DatasetTaskId = datasetTaskId, Sequence = sequence, External = external,
        JobState = external ? SubOrderJobState.Staged : SubOrderJobState.Queued,
        Priority = order.IsApplicationOrder ? 1 : 0, QueuedAt = now, StagedAt = external ? now : null,
    };

    /// <summary>
    /// What its files say now: waiting for the user (first time: true is returned, for the "files available" mail), or
    /// ended once nothing is pending or available.
    /// </summary>
    public bool Observe(int pending, int available, DateTime now)
    {
        var waiting = !External && jobState == SubOrderJobState.Staged && pending == 0 && available > 0;
        var newlyWaiting = waiting && !waitingForUser;
        waitingForUser = waiting;
        if (waiting)
        {
            stagedAt ??= now;
        }
        if (pending == 0 && available == 0 && SubOrderStateMachine.Allows(jobState, SubOrderAction.FilesFinal))
        {
            MoveTo(SubOrderAction.FilesFinal);
        }
        return newlyWaiting;
    }

    private void MoveTo(SubOrderAction action)
    {
        jobState = SubOrderStateMachine.Apply(jobState, action);
        ended = jobState == SubOrderJobState.Ended;
        if (ended)
        {
            waitingForUser = false;
            leaseOwner = null;
            leaseExpiresAt = null;
        }
    }
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
    /// <summary>Changed only by <see cref="OrderBulk"/>'s named methods (files move in sets).</summary>
    public OrderFileState State { get; init; }
    public string? DownloadError { get; init; }

    /// <summary>When the file was last downloaded completely (dashboard volumes).</summary>
    public DateTime? DownloadedAt { get; init; }
    public long Version { get; set; }
}
