using Regards.Portal.Catalog;

namespace Regards.Portal.Storage;

/// <summary>Where a file's bytes are, as the catalog says (never built from user input).</summary>
public sealed record StorageFileRef(StorageTier Tier, string Location, long Size, string? Checksum);

public sealed record StagingOutcome(bool Success, string? Error = null)
{
    public static readonly StagingOutcome Ok = new(true);
}

/// <summary>
/// The storage layer. Online files are readable at once; Nearline files must first be restored into the
/// order's cache (slow, may fail); External files are URLs and never go through here. Cache copies are per
/// order so that releasing an order (expiry, delete) never touches another order's files.
/// </summary>
public interface IFileStorage
{
    /// <summary>Makes the files readable for that order; one outcome per file, in the same order.
    /// Honours cancellation promptly (pause): files not yet restored are left as they were.</summary>
    Task<IReadOnlyList<StagingOutcome>> StageAsync(long orderId, IReadOnlyList<StorageFileRef> files, CancellationToken cancellationToken);

    /// <summary>True when <see cref="OpenRead"/> would succeed now.</summary>
    bool IsReadable(long orderId, StorageFileRef file);

    /// <summary>Opens the bytes for reading (async, seekable). Throws <see cref="FileNotFoundException"/> when not staged or gone.</summary>
    Stream OpenRead(long orderId, StorageFileRef file);

    /// <summary>A hint that the file will be read soon (the next file of a zip): the storage may start fetching its
    /// beginning so that reading it does not start cold. Best effort: never throws.</summary>
    void Prefetch(long orderId, StorageFileRef file);

    /// <summary>Creates a file in the order's cache (e.g. a processing output); returns its location for <see cref="OpenRead"/> with tier Online.</summary>
    Stream CreateOrderOutput(long orderId, string relativeName, out string location);

    /// <summary>Deletes one output made by <see cref="CreateOrderOutput"/> (an execution that failed or was interrupted).</summary>
    void DeleteOrderOutput(long orderId, string location);

    /// <summary>Deletes the order's cache copies and outputs.</summary>
    Task ReleaseOrderAsync(long orderId, CancellationToken cancellationToken);
}
