namespace Regards.Portal.Orders;

/// <summary>
/// What the downloads feature tells the orders feature. Implemented by the orders feature: it changes the
/// file states, recomputes the order's progress / available count / waiting flag, re-runs the per-user
/// throttle (so the next sub-orders start) and pushes the change to open pages.
/// </summary>
public interface IOrderFileEvents
{
    /// <summary>These files were downloaded completely: AVAILABLE/DOWNLOAD_ERROR/DOWNLOADED → DOWNLOADED.</summary>
    Task FilesDownloadedAsync(long orderId, IReadOnlyCollection<long> orderFileIds, CancellationToken cancellationToken = default);

    /// <summary>A download of this file was cut short: → DOWNLOAD_ERROR with the message (e.g. "only x/y bytes");
    /// a DONE order becomes DONE_WITH_WARNING.</summary>
    Task FileDownloadFailedAsync(long orderId, long orderFileId, string message, CancellationToken cancellationToken = default);
}
