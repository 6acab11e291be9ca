using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

/// <summary>
/// Reads what <see cref="OrderSituation.Of"/> needs for a page of orders, in a few bounded queries: the parts of the
/// live orders, the tier of the parts being prepared, the available files of the waiting parts (at most the owner's
/// slots, so a few thousand files), the zip's contents (available files are bounded the same way) and the slots the
/// owner's sub-orders hold. Read only.
/// </summary>
public sealed class OrderSituations(IDbContextFactory<PortalDbContext> dbFactory, IOptions<OrdersOptions> options, TimeProvider time)
{
    /// <summary>Orders with more available files than this get no exact zip contents (objects and bytes).</summary>
    public const int ZipCountedFiles = 10_000;

    public async Task<IReadOnlyDictionary<long, OrderSituation>> DescribeAsync(IReadOnlyCollection<OrderDto> orders, CancellationToken cancellationToken = default)
    {
        var result = new Dictionary<long, OrderSituation>();
        if (orders.Count == 0)
        {
            return result;
        }
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var live = orders.Where(o => o.Status is OrderStatus.Running or OrderStatus.Paused).Select(o => o.Id).ToList();
        var subOrders = live.Count == 0 ? [] : await db.SubOrders.AsNoTracking().Where(s => live.Contains(s.OrderId) && !s.External)
            .Select(s => new { s.Id, s.OrderId, s.Sequence, s.JobState, s.WaitingForUser }).ToListAsync(cancellationToken);

        var stagingIds = subOrders.Where(s => s.JobState == SubOrderJobState.Staging).Select(s => s.Id).ToList();
        var fromTape = stagingIds.Count == 0 ? [] : (await db.OrderFiles.Where(f => stagingIds.Contains(f.SubOrderId) && f.Tier == StorageTier.Nearline)
            .Select(f => f.SubOrderId).Distinct().ToListAsync(cancellationToken)).ToHashSet();
        var waitingIds = subOrders.Where(s => s.WaitingForUser).Select(s => s.Id).ToList();
        var available = waitingIds.Count == 0 ? [] : await db.OrderFiles
            .Where(f => waitingIds.Contains(f.SubOrderId) && f.State == OrderFileState.Available)
            .GroupBy(f => f.SubOrderId).Select(g => new { SubOrderId = g.Key, Count = g.Count(), Bytes = g.Sum(f => f.Size) })
            .ToDictionaryAsync(x => x.SubOrderId, cancellationToken);

        // Counted exactly up to ZipCountedFiles available files: past that, a page render would count and de-duplicate
        // a million rows at every pushed change; the button then tells the order's count of available files alone.
        var zippable = orders.Where(o => o.AvailableFilesCount is > 0 and <= ZipCountedFiles && o.Status is not (OrderStatus.Expired or OrderStatus.Deleted))
            .Select(o => o.Id).ToList();
        var zips = zippable.Count == 0 ? [] : await db.OrderFiles
            .Where(f => zippable.Contains(f.OrderId) && f.State == OrderFileState.Available && f.Tier != StorageTier.External)
            .GroupBy(f => f.OrderId)
            .Select(g => new { OrderId = g.Key, Files = g.Count(), Objects = g.Select(f => f.DataObjectId).Distinct().Count(), Bytes = g.Sum(f => f.Size) })
            .ToDictionaryAsync(x => x.OrderId, x => new ZipContents(x.Files, x.Objects, x.Bytes), cancellationToken);

        // Whose sub-orders hold the owners' slots: only needed when a part waits for one.
        var queuedOwners = orders.Where(o => subOrders.Any(s => s.OrderId == o.Id && s.JobState == SubOrderJobState.Queued)).Select(o => o.Owner).Distinct().ToList();
        var holders = queuedOwners.Count == 0 ? [] : await db.SubOrders.AsNoTracking()
            .Where(s => queuedOwners.Contains(s.Owner) && !s.External
                        && ((s.JobState == SubOrderJobState.Staging && s.LeaseExpiresAt >= now) || s.JobState == SubOrderJobState.Staged))
            .Select(s => new { s.Owner, s.OrderId, s.Order!.Label }).ToListAsync(cancellationToken);

        var zone = time.LocalTimeZone;
        foreach (var order in orders)
        {
            var parts = subOrders.Where(s => s.OrderId == order.Id).OrderBy(s => s.Sequence)
                .Select((s, i) => new SubOrderFacts(s.Id, i + 1, s.JobState, s.WaitingForUser, fromTape.Contains(s.Id),
                    available.GetValueOrDefault(s.Id)?.Count ?? 0, available.GetValueOrDefault(s.Id)?.Bytes ?? 0))
                .ToList();
            var slotHolders = holders.Where(h => h.Owner == order.Owner).Select(h => new SlotHolder(h.OrderId, h.Label)).ToList();
            var zip = order.AvailableFilesCount > ZipCountedFiles ? new ZipContents(order.AvailableFilesCount, -1, -1) : zips.GetValueOrDefault(order.Id);
            result[order.Id] = OrderSituation.Of(order, parts, slotHolders, options.Value.MaxActiveSubOrdersPerUser, zip, now, zone);
        }
        return result;
    }

    public async Task<OrderSituation> DescribeAsync(OrderDto order, CancellationToken cancellationToken = default) =>
        (await DescribeAsync([order], cancellationToken))[order.Id];
}
