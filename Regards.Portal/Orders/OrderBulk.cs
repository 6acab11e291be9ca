using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

/// <summary>
/// The named moves of whole sets of order rows: the only bulk writes (<c>ExecuteUpdate</c>/<c>ExecuteDelete</c>) on
/// the orders' tables in the portal. Each move takes its starting states from the transition tables
/// (<see cref="OrderStateMachine"/>, <see cref="SubOrderStateMachine"/>) and bumps <c>Version</c> itself, since bulk
/// updates bypass the tracked save that bumps it. The engine's writes are fenced by its lease: once an order is
/// cancelled or expired (its sub-orders closed, their leases cleared), a staging job still running elsewhere writes nothing.
/// <para>Lock order. Servers that lock rows (PostgreSQL, SQL Server) deadlock two transactions that take the same rows
/// in opposite orders; SQLite, one writer at a time, never does. Every transaction here takes the order's row first,
/// then its sub-orders, then its files: a transaction that writes sub-orders or files before saving the order locks
/// the order first (<see cref="TryLockOrderAsync"/>), and a staging job's writes start by locking the sub-order it holds
/// (<see cref="HoldAsync"/>), which is also what fences them.</para>
/// </summary>
public static class OrderBulk
{
    private const int Chunk = 500;

    /// <summary>
    /// Locks the order's row until the end of the caller's transaction, if it still has the version the caller read
    /// (a no-op update: the row lock that its save would take, taken before the sub-orders' and files' writes). False
    /// when the order changed meanwhile.
    /// </summary>
    public static async Task<bool> TryLockOrderAsync(PortalDbContext db, long orderId, long version, CancellationToken cancellationToken) =>
        await db.Orders.Where(o => o.Id == orderId && o.Version == version)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Version, o => o.Version), cancellationToken) == 1;

    private static Task<int> LockOrderAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken) =>
        db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s.SetProperty(o => o.Version, o => o.Version), cancellationToken);

    /// <summary>
    /// The fence of a staging job's writes: locks its sub-order until the end of the caller's transaction, while this
    /// instance holds its lease (a no-op update). False once the lease was taken away (cancelled, expired, taken over):
    /// then the job writes nothing. A cancel or an expiry that comes meanwhile waits for the job's transaction.
    /// </summary>
    public static async Task<bool> HoldAsync(PortalDbContext db, long subOrderId, string instance, CancellationToken cancellationToken = default) =>
        await Held(db, subOrderId, instance).ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, x => x.LeaseOwner), cancellationToken) == 1;

    // ---- Sub-orders -------------------------------------------------------------------------------------------

    /// <summary>Pause: queued sub-orders wait for the resume.</summary>
    public static Task<int> SuspendQueuedAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken)
    {
        var from = SubOrderStateMachine.From(SubOrderAction.Suspend);
        return db.SubOrders.Where(s => s.OrderId == orderId && from.Contains(s.JobState))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.JobState, SubOrderStateMachine.To(SubOrderAction.Suspend)).SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
    }

    /// <summary>Resume: suspended sub-orders go back to the queue, as if queued now.</summary>
    public static Task<int> RequeueSuspendedAsync(PortalDbContext db, long orderId, DateTime now, CancellationToken cancellationToken)
    {
        var from = SubOrderStateMachine.From(SubOrderAction.Requeue);
        return db.SubOrders.Where(s => s.OrderId == orderId && from.Contains(s.JobState))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.JobState, SubOrderStateMachine.To(SubOrderAction.Requeue)).SetProperty(x => x.QueuedAt, now)
                .SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
    }

    /// <summary>Delete, cancel, expiry: every sub-order ends, waits for no one, and loses its lease (which fences its staging job).</summary>
    public static Task<int> CloseSubOrdersAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken)
    {
        var from = SubOrderStateMachine.From(SubOrderAction.Close);
        return db.SubOrders.Where(s => s.OrderId == orderId && (from.Contains(s.JobState) || !s.Ended || s.WaitingForUser))
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.JobState, SubOrderStateMachine.To(SubOrderAction.Close)).SetProperty(x => x.Ended, true)
                .SetProperty(x => x.WaitingForUser, false).SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
    }

    /// <summary>
    /// Takes a queued sub-order (or one whose staging lease expired) for this instance, only while its owner has fewer
    /// than <paramref name="maxActive"/> active ones: the throttle is part of the claim, so another instance cannot push
    /// the user over the limit between a read and this write. Only sub-orders of RUNNING orders.
    /// </summary>
    public static async Task<bool> TryClaimSubOrderAsync(PortalDbContext db, long subOrderId, string owner, string instance, DateTime now, DateTime expires, int maxActive, CancellationToken cancellationToken)
    {
        var queued = SubOrderStateMachine.From(SubOrderAction.Claim).Where(s => s != SubOrderJobState.Staging).ToList();
        // The count below sees only committed claims: two instances claiming two sub-orders of one user at once would both
        // see room for one more. Claims of one user take turns (their own transaction, under that user's lock).
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        await ProviderSql.LockForTransactionAsync(db, "regards.claim:" + owner, cancellationToken);
        var claimed = await db.SubOrders
            .Where(s => s.Id == subOrderId && s.Order!.Status == OrderStatus.Running
                        && (queued.Contains(s.JobState) || (s.JobState == SubOrderJobState.Staging && s.LeaseExpiresAt < now))
                        && db.SubOrders.Count(x => x.Owner == owner && !x.External &&
                            ((x.JobState == SubOrderJobState.Staging && x.LeaseExpiresAt >= now) || x.JobState == SubOrderJobState.Staged)) < maxActive)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.JobState, SubOrderStateMachine.To(SubOrderAction.Claim))
                .SetProperty(x => x.LeaseOwner, instance)
                .SetProperty(x => x.LeaseExpiresAt, expires)
                .SetProperty(x => x.StagingStartedAt, now)
                .SetProperty(x => x.Attempts, x => x.Attempts + 1)
                .SetProperty(x => x.Version, x => x.Version + 1), cancellationToken) == 1;
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
        return claimed;
    }

    /// <summary>Renews a staging lease, only while the order still runs: false tells the job to stop (paused, cancelled, expired — on any instance).</summary>
    public static async Task<bool> RenewStagingLeaseAsync(PortalDbContext db, long subOrderId, string instance, DateTime expires, CancellationToken cancellationToken) =>
        await db.SubOrders.Where(s => s.Id == subOrderId && s.LeaseOwner == instance && s.JobState == SubOrderJobState.Staging && s.Order!.Status == OrderStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseExpiresAt, expires), cancellationToken) == 1;

    /// <summary>The staging job gives its sub-order back: staged, back to the queue (shutdown) or suspended (pause). Nothing if its lease was taken away.</summary>
    public static Task<int> ReleaseSubOrderAsync(PortalDbContext db, long subOrderId, string instance, SubOrderAction action)
    {
        if (action is not (SubOrderAction.Staged or SubOrderAction.GiveBack or SubOrderAction.StopStaging))
        {
            throw new ArgumentOutOfRangeException(nameof(action));
        }
        var from = SubOrderStateMachine.From(action);
        return db.SubOrders.Where(s => s.Id == subOrderId && s.LeaseOwner == instance && from.Contains(s.JobState))
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.JobState, SubOrderStateMachine.To(action))
                .SetProperty(x => x.LeaseOwner, (string?)null)
                .SetProperty(x => x.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(x => x.Version, x => x.Version + 1));
    }

    // ---- Orders -----------------------------------------------------------------------------------------------

    /// <summary>Takes a PENDING order's completion for this instance (or takes over a dead instance's), counting the attempt.</summary>
    public static async Task<bool> TryClaimCompletionAsync(PortalDbContext db, long orderId, string instance, DateTime now, DateTime expires, CancellationToken cancellationToken) =>
        await db.Orders
            .Where(o => o.Id == orderId && o.Status == OrderStatus.Pending && o.CompletionDate == null && (o.LeaseOwner == null || o.LeaseExpiresAt < now))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.LeaseOwner, instance).SetProperty(o => o.LeaseExpiresAt, expires)
                .SetProperty(o => o.CompletionAttempts, o => o.CompletionAttempts + 1).SetProperty(o => o.Version, o => o.Version + 1), cancellationToken) == 1;

    public static async Task<bool> RenewCompletionLeaseAsync(PortalDbContext db, long orderId, string instance, DateTime expires, CancellationToken cancellationToken) =>
        await db.Orders.Where(o => o.Id == orderId && o.LeaseOwner == instance)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.LeaseExpiresAt, expires), cancellationToken) == 1;

    /// <summary>A completion starts (again) from nothing: a crashed one may have left part of its rows.</summary>
    public static async Task WipeCompletionAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken)
    {
        await db.OrderFiles.Where(f => f.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await db.SubOrders.Where(s => s.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await db.DatasetTasks.Where(t => t.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>A dataset task's totals, once the completion has written all its files.</summary>
    public static Task<int> SetTaskTotalsAsync(PortalDbContext db, DatasetTask task, CancellationToken cancellationToken) =>
        db.DatasetTasks.Where(t => t.Id == task.Id).ExecuteUpdateAsync(s => s
            .SetProperty(t => t.ObjectsCount, task.ObjectsCount)
            .SetProperty(t => t.FilesCount, task.FilesCount)
            .SetProperty(t => t.FilesSize, task.FilesSize), cancellationToken);

    /// <summary>
    /// The order expires: EXPIRED, nothing available or in error, waiting for no one; its sub-orders close and its files
    /// go, in one transaction. False when it had already left the expirable states.
    /// </summary>
    public static async Task<bool> TryExpireAsync(PortalDbContext db, long orderId, DateTime now, CancellationToken cancellationToken)
    {
        var expirable = OrderStateMachine.Table[OrderAction.Expire].From.ToList();
        var expired = OrderStateMachine.Table[OrderAction.Expire].To!.Value;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var changed = await db.Orders.Where(o => o.Id == orderId && expirable.Contains(o.Status))
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.Status, expired).SetProperty(o => o.StatusDate, now)
                // Its files go: its figures are those of no file (as a recompute would give them), also once it is deleted.
                .SetProperty(o => o.WaitingForUser, false).SetProperty(o => o.AvailableFilesCount, 0).SetProperty(o => o.ZippableFilesCount, 0)
                .SetProperty(o => o.FilesInErrorCount, 0).SetProperty(o => o.PercentCompleted, 100)
                .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        if (changed == 0)
        {
            return false;
        }
        await CloseSubOrdersAsync(db, orderId, cancellationToken);
        await db.OrderFiles.Where(f => f.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The "expires tomorrow" e-mail is being queued: true only for the one caller that set the flag.</summary>
    public static async Task<bool> TryMarkExpiryWarningSentAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken) =>
        await db.Orders.Where(o => o.Id == orderId && !o.ExpiryWarningSent)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ExpiryWarningSent, true).SetProperty(o => o.Version, o => o.Version + 1), cancellationToken) == 1;

    /// <summary>A DELETED order disappears with its tasks, sub-orders, files and cart. False when it is not (or no longer) DELETED.</summary>
    public static async Task<bool> TryRemoveAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken)
    {
        var removable = OrderStateMachine.Table[OrderAction.Remove].From.ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The order's row first (the lock order), and only if it is still removable.
        if (await db.Orders.Where(o => o.Id == orderId && removable.Contains(o.Status))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.Version, o => o.Version + 1), cancellationToken) == 0)
        {
            return false;
        }
        await db.OrderFiles.Where(f => f.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await db.SubOrders.Where(s => s.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await db.DatasetTasks.Where(t => t.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);
        await Basket.BasketHandover.DeleteOfOrderAsync(db, orderId, cancellationToken);
        if (await db.Orders.Where(o => o.Id == orderId && removable.Contains(o.Status)).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return false; // disposing the transaction rolls the rest back
        }
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    // ---- Files ------------------------------------------------------------------------------------------------

    /// <summary>
    /// Staging results of a sub-order this instance holds: PENDING → AVAILABLE, or → ERROR with the storage's message.
    /// Fenced: nothing is written once the sub-order's lease was taken away (cancelled, expired, taken over); false then.
    /// In the caller's transaction if there is one (the engine releases the sub-order in the same one), else in its own.
    /// </summary>
    public static async Task<bool> MarkStagedAsync(PortalDbContext db, long subOrderId, string instance, IReadOnlyCollection<long> available,
        IEnumerable<IGrouping<string, long>> failed)
    {
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync() : null;
        if (!await HoldAsync(db, subOrderId, instance))
        {
            return false;
        }
        foreach (var chunk in available.Chunk(Chunk))
        {
            await db.OrderFiles.Where(f => chunk.Contains(f.Id) && f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Available).SetProperty(f => f.Version, f => f.Version + 1));
        }
        foreach (var group in failed)
        {
            var message = Truncate(group.Key);
            foreach (var chunk in group.Chunk(Chunk))
            {
                await db.OrderFiles.Where(f => chunk.Contains(f.Id) && f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
                    .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Error).SetProperty(f => f.DownloadError, message).SetProperty(f => f.Version, f => f.Version + 1));
            }
        }
        if (transaction is not null)
        {
            await transaction.CommitAsync();
        }
        return true;
    }

    /// <summary>The sub-order's PENDING files end in <paramref name="state"/> (staging timed out or failed, processing failed),
    /// fenced by the lease as <see cref="MarkStagedAsync"/>.</summary>
    public static async Task<int> FailPendingFilesAsync(PortalDbContext db, long subOrderId, string instance, OrderFileState state, string message)
    {
        if (state is not (OrderFileState.Error or OrderFileState.ProcessingError))
        {
            throw new ArgumentOutOfRangeException(nameof(state));
        }
        message = Truncate(message);
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync() : null;
        if (!await HoldAsync(db, subOrderId, instance))
        {
            return 0;
        }
        var changed = await db.OrderFiles.Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, state).SetProperty(f => f.DownloadError, message).SetProperty(f => f.Version, f => f.Version + 1));
        if (transaction is not null)
        {
            await transaction.CommitAsync();
        }
        return changed;
    }

    /// <summary>Downloaded completely: AVAILABLE/DOWNLOAD_ERROR/DOWNLOADED → DOWNLOADED.</summary>
    public static async Task FilesDownloadedAsync(PortalDbContext db, long orderId, IReadOnlyCollection<long> orderFileIds, DateTime now, CancellationToken cancellationToken)
    {
        var recovered = false;
        foreach (var chunk in orderFileIds.Chunk(Chunk))
        {
            recovered |= await db.OrderFiles.AnyAsync(f => f.OrderId == orderId && chunk.Contains(f.Id) && f.State == OrderFileState.DownloadError, cancellationToken);
            await db.OrderFiles
                .Where(f => f.OrderId == orderId && chunk.Contains(f.Id) && (f.State == OrderFileState.Available || f.State == OrderFileState.DownloadError || f.State == OrderFileState.Downloaded))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(f => f.State, OrderFileState.Downloaded)
                    .SetProperty(f => f.DownloadError, (string?)null)
                    .SetProperty(f => f.DownloadedAt, now)
                    .SetProperty(f => f.Version, f => f.Version + 1), cancellationToken);
        }
        if (recovered && !await db.OrderFiles.AnyAsync(f => f.OrderId == orderId && (f.State == OrderFileState.DownloadError || f.State == OrderFileState.Error), cancellationToken))
        {
            // Only a warning that downloads alone caused is lifted: a completion's warning comes with its message.
            var transition = OrderStateMachine.Table[OrderAction.DownloadRecovered];
            var from = transition.From.ToList();
            await db.Orders.Where(o => o.Id == orderId && from.Contains(o.Status) && o.Message == null)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(o => o.Status, transition.To!.Value)
                    .SetProperty(o => o.StatusDate, now)
                    .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        }
    }

    /// <summary>A download was cut short: the file → DOWNLOAD_ERROR, and a DONE order → DONE_WITH_WARNING (the table's move).</summary>
    public static async Task FileDownloadFailedAsync(PortalDbContext db, long orderId, long orderFileId, string message, DateTime now, CancellationToken cancellationToken)
    {
        message = Truncate(message);
        var changed = await db.OrderFiles
            .Where(f => f.OrderId == orderId && f.Id == orderFileId && (f.State == OrderFileState.Available || f.State == OrderFileState.DownloadError))
            .ExecuteUpdateAsync(s => s
                .SetProperty(f => f.State, OrderFileState.DownloadError)
                .SetProperty(f => f.DownloadError, message)
                .SetProperty(f => f.Version, f => f.Version + 1), cancellationToken);
        if (changed > 0)
        {
            var transition = OrderStateMachine.Table[OrderAction.DownloadFailed];
            var from = transition.From.ToList();
            await db.Orders.Where(o => o.Id == orderId && from.Contains(o.Status))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(o => o.Status, transition.To!.Value)
                    .SetProperty(o => o.StatusDate, now)
                    .SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
        }
    }

    /// <summary>Retry: files in error go back to PENDING in a new sub-order.</summary>
    public static async Task MoveFilesToSubOrderAsync(PortalDbContext db, long subOrderId, IReadOnlyCollection<long> fileIds, CancellationToken cancellationToken)
    {
        foreach (var chunk in fileIds.Chunk(Chunk))
        {
            await db.OrderFiles.Where(f => chunk.Contains(f.Id) && (f.State == OrderFileState.Error || f.State == OrderFileState.DownloadError))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(f => f.SubOrderId, subOrderId).SetProperty(f => f.State, OrderFileState.Pending)
                    .SetProperty(f => f.DownloadError, (string?)null).SetProperty(f => f.Version, f => f.Version + 1), cancellationToken);
        }
    }

    /// <summary>
    /// A processing's outputs replace its inputs (AVAILABLE, in the same sub-order), only if every input is still PENDING
    /// (the order may have been cancelled or expired meanwhile), and the order's totals follow; one transaction.
    /// </summary>
    public static async Task<bool> ReplaceInputsAsync(PortalDbContext db, long orderId, long subOrderId, string instance, IReadOnlyCollection<long> inputIds, IReadOnlyList<OrderFile> outputs)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        // The lock order: the order (its totals change below), then the sub-order (the fence), then the files.
        if (await LockOrderAsync(db, orderId, CancellationToken.None) == 0 || !await HoldAsync(db, subOrderId, instance))
        {
            return false;
        }
        var removed = 0;
        var removedBytes = 0L;
        foreach (var chunk in inputIds.Chunk(Chunk))
        {
            var inputs = db.OrderFiles.Where(f => f.SubOrderId == subOrderId && chunk.Contains(f.Id) && f.State == OrderFileState.Pending);
            removedBytes += await inputs.SumAsync(f => f.Size);
            removed += await inputs.ExecuteDeleteAsync();
        }
        if (removed != inputIds.Count)
        {
            return false; // disposing the transaction rolls back
        }
        db.OrderFiles.AddRange(outputs);
        await db.SaveChangesAsync();
        var filesDelta = outputs.Count - removed;
        var bytesDelta = outputs.Sum(o => o.Size) - removedBytes;
        // Relative updates: the progress recompute may be saving the same order meanwhile.
        await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.FilesCount, o => o.FilesCount + filesDelta)
            .SetProperty(o => o.TotalSize, o => o.TotalSize + bytesDelta)
            .SetProperty(o => o.Version, o => o.Version + 1));
        await transaction.CommitAsync();
        return true;
    }

    /// <summary>The sub-order, while this instance's staging job holds it (the fence of the engine's writes).</summary>
    private static IQueryable<SubOrder> Held(PortalDbContext db, long subOrderId, string instance) =>
        db.SubOrders.Where(s => s.Id == subOrderId && s.LeaseOwner == instance && s.JobState == SubOrderJobState.Staging);

    private static string Truncate(string message) => message.Length > 500 ? message[..497] + "..." : message;
}
