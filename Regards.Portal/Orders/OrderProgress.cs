using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Notifications;

namespace Regards.Portal.Orders;

/// <summary>Wakes the engine at once (a download freed a slot, an order was created or resumed) instead of waiting for its next poll.</summary>
public sealed class EngineSignal : Infrastructure.WakeSignal;

/// <summary>
/// Recomputes an order's figures from its files with aggregate queries (no per-file loop): progress by bytes,
/// files in error, available count, the waiting flags of its sub-orders, and the status move at 100 %.
/// Also receives the downloads' events (<see cref="IOrderFileEvents"/>).
/// </summary>
public sealed class OrderProgress(
    IDbContextFactory<PortalDbContext> dbFactory,
    OrderChangeNotifier notifier,
    IOrderMailer mailer,
    EngineSignal engine,
    TimeProvider time,
    ILogger<OrderProgress> logger) : IOrderFileEvents
{
    private const int MaxAttempts = 5;

    private sealed class Refresh
    {
        /// <summary>Callers that arrived during the running recompute: served by the next one.</summary>
        public TaskCompletionSource? Next;
    }

    private readonly Lock gate = new();
    private readonly Dictionary<long, Refresh> refreshing = [];

    /// <summary>
    /// Recomputes the order once its caller's changes are written, coalescing concurrent callers: while a recompute of
    /// the order runs, later callers share one more run instead of each running its own (sub-orders of one order end
    /// together; separate recomputes would only collide on the order row and retry). Returns when a recompute that
    /// started after the call has finished.
    /// </summary>
    public async Task RefreshAsync(long orderId)
    {
        TaskCompletionSource? joined = null;
        lock (gate)
        {
            if (refreshing.TryGetValue(orderId, out var running))
            {
                joined = running.Next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else
            {
                refreshing[orderId] = new Refresh();
            }
        }
        if (joined is not null)
        {
            await joined.Task;
            return;
        }

        Exception? own = null;
        TaskCompletionSource? served = null;
        while (true)
        {
            try
            {
                await RecomputeAsync(orderId, CancellationToken.None);
                served?.TrySetResult();
            }
            catch (Exception e)
            {
                if (served is null) { own = e; } else { served.TrySetException(e); }
            }
            lock (gate)
            {
                var refresh = refreshing[orderId];
                served = refresh.Next;
                refresh.Next = null;
                if (served is null)
                {
                    refreshing.Remove(orderId);
                    break;
                }
            }
        }
        if (own is not null)
        {
            throw own;
        }
    }

    /// <summary>
    /// At the engine's start: recomputes the live orders none of whose jobs is still queued, staging or suspended. A
    /// stop between a staging's commit and the progress refresh that follows it (a crash, or the instant a backup copied)
    /// leaves such an order RUNNING at 100 % with no job left to refresh it.
    /// </summary>
    public async Task RecoverAsync(CancellationToken cancellationToken)
    {
        try
        {
            List<long> ids;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                ids = await db.Orders.Where(o => (o.Status == OrderStatus.Running || o.Status == OrderStatus.Paused) && o.CompletionDate != null
                        && !db.SubOrders.Any(s => s.OrderId == o.Id && (s.JobState == SubOrderJobState.Queued || s.JobState == SubOrderJobState.Staging || s.JobState == SubOrderJobState.Suspended)))
                    .Select(o => o.Id).ToListAsync(cancellationToken);
            }
            foreach (var id in ids)
            {
                await RecomputeAsync(id, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Recomputing the orders left behind by the last stop failed");
        }
    }

    /// <summary>
    /// Tells the pages that these orders moved without a change of their figures (a part was claimed for preparation:
    /// "Queued" becomes "Preparing part i of n"). Reads only.
    /// </summary>
    public async Task AnnounceAsync(IReadOnlyCollection<long> orderIds, CancellationToken cancellationToken)
    {
        if (!notifier.HasSubscribers)
        {
            // No page open on this instance: no query, at every claim of the engine.
            foreach (var orderId in orderIds)
            {
                notifier.AnnounceElsewhere(orderId);
            }
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        (await OrderChange.ReadAsync(db, orderIds, cancellationToken)).ForEach(notifier.Publish);
    }

    public async Task<Order?> RecomputeAsync(long orderId, CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var order = await db.Orders.FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken);
            if (order is null || order.Status is OrderStatus.Expired or OrderStatus.Error || order.CompletionDate is null)
            {
                return order;
            }
            // One pass over the order's files gives both the order's figures and each sub-order's.
            var groups = await db.OrderFiles.Where(f => f.OrderId == orderId)
                .GroupBy(f => new { f.SubOrderId, f.State, External = f.Tier == StorageTier.External })
                .Select(g => new { g.Key.SubOrderId, g.Key.State, g.Key.External, Count = g.Count(), Bytes = g.Sum(f => f.Size) })
                .ToListAsync(cancellationToken);
            var byState = groups.GroupBy(g => (g.State, g.External))
                .Select(g => new { g.Key.State, g.Key.External, Count = g.Sum(x => x.Count), Bytes = g.Sum(x => x.Bytes) }).ToList();
            var bySubOrder = groups.GroupBy(g => g.SubOrderId).ToDictionary(g => g.Key, g => new
            {
                Pending = g.Where(x => x.State == OrderFileState.Pending).Sum(x => x.Count),
                Available = g.Where(x => x.State == OrderFileState.Available).Sum(x => x.Count),
            });
            var subOrders = await db.SubOrders.Where(s => s.OrderId == orderId).ToListAsync(cancellationToken);

            var now = time.GetUtcNow().UtcDateTime;
            var newlyWaiting = new List<SubOrder>();
            foreach (var sub in subOrders)
            {
                var stats = bySubOrder.GetValueOrDefault(sub.Id);
                if (sub.Observe(stats?.Pending ?? 0, stats?.Available ?? 0, now))
                {
                    newlyWaiting.Add(sub);
                }
            }
            var figures = new OrderFigures(
                Files: byState.Sum(s => s.Count),
                Pending: byState.Where(s => s.State == OrderFileState.Pending).Sum(s => s.Count),
                Available: byState.Where(s => s.State == OrderFileState.Available).Sum(s => s.Count),
                Zippable: byState.Where(s => s.State == OrderFileState.Available && !s.External).Sum(s => s.Count),
                InError: byState.Where(s => s.State is OrderFileState.Error or OrderFileState.ProcessingError).Sum(s => s.Count),
                TotalBytes: byState.Sum(s => s.Bytes),
                DoneBytes: byState.Where(s => s.State != OrderFileState.Pending).Sum(s => s.Bytes));
            if (order.ApplyProgress(figures, subOrders.Any(s => s.WaitingForUser), now))
            {
                logger.LogInformation("Order {OrderId} reached 100 %: {Status}", order.Id, order.Status);
            }
            // Queued by the same save that marks the sub-orders waiting: a mail for each, exactly once.
            var subOrdersCount = subOrders.Count(s => !s.External);
            foreach (var sub in newlyWaiting)
            {
                mailer.FilesAvailable(db, order, sub.Sequence, subOrdersCount);
            }
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                continue; // Someone changed the order meanwhile: recompute from fresh rows (the mails are recomposed too).
            }
            notifier.Publish(order);
            return order;
        }
    }

    public async Task FilesDownloadedAsync(long orderId, IReadOnlyCollection<long> orderFileIds, CancellationToken cancellationToken = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await OrderBulk.FilesDownloadedAsync(db, orderId, orderFileIds, time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        await RefreshAsync(orderId);
        // Downloaded files may end sub-orders: their throttle slots are free for the next ones.
        engine.Wake();
    }

    public async Task FileDownloadFailedAsync(long orderId, long orderFileId, string message, CancellationToken cancellationToken = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await OrderBulk.FileDownloadFailedAsync(db, orderId, orderFileId, message, time.GetUtcNow().UtcDateTime, cancellationToken);
        }
        await RefreshAsync(orderId);
        engine.Wake();
    }
}
