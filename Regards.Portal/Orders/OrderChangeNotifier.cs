using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Cluster;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

/// <summary>
/// Pushes order changes to open pages: each owner's key, and <see cref="AllOrders"/> for admin pages.
/// The engine never waits for a page (handlers run detached). Every change is also announced on the change feed, so
/// that the other instances' pages, caches and staging jobs hear it (<see cref="OrderChangeRelay"/>).
/// </summary>
public sealed class OrderChangeNotifier(ChangeFeed feed, ILogger<OrderChangeNotifier> logger) : KeyedNotifier<string, OrderChange>(logger)
{
    public const string AllOrders = "*";

    public void Publish(Order order) => Publish(OrderChange.Of(order));

    public void Publish(OrderChange change)
    {
        PublishHere(change);
        AnnounceElsewhere(change.OrderId);
    }

    /// <summary>To the other instances only (they read the order themselves): nothing listens here.</summary>
    public void AnnounceElsewhere(long orderId) => feed.Announce(ChangeKinds.Order, orderId.ToString(CultureInfo.InvariantCulture));

    /// <summary>To this instance's subscribers only (a change another instance announced).</summary>
    public void PublishHere(OrderChange change)
    {
        Publish(change.Owner, change);
        Publish(AllOrders, change);
    }
}

public sealed record OrderChange(long OrderId, string Owner, OrderStatus Status, int PercentCompleted, bool WaitingForUser, int AvailableFilesCount)
{
    public static OrderChange Of(Order order) =>
        new(order.Id, order.Owner, order.Status, order.PercentCompleted, order.WaitingForUser, order.AvailableFilesCount);

    /// <summary>These orders as they are now, in one query (removed ones are missing).</summary>
    public static Task<List<OrderChange>> ReadAsync(PortalDbContext db, IReadOnlyCollection<long> orderIds, CancellationToken cancellationToken) =>
        db.Orders.AsNoTracking().Where(o => orderIds.Contains(o.Id))
            .Select(o => new OrderChange(o.Id, o.Owner, o.Status, o.PercentCompleted, o.WaitingForUser, o.AvailableFilesCount))
            .ToListAsync(cancellationToken);
}

/// <summary>
/// Another instance changed these orders: this instance reads them once (one query for the batch), tells its own pages
/// (which evicts its file lookups too), stops its staging jobs of an order that was paused, cancelled, deleted or
/// expired there, and wakes its engine for an order that was resumed or retried.
/// </summary>
public sealed class OrderChangeRelay(
    IDbContextFactory<PortalDbContext> dbFactory,
    OrderChangeNotifier notifier,
    OrderEngine engine,
    EngineSignal signal) : IRemoteChangeHandler
{
    public string Kind => ChangeKinds.Order;

    public async Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var ids = keys.Select(k => long.TryParse(k, CultureInfo.InvariantCulture, out var id) ? id : 0).Where(id => id > 0).ToArray();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var orders = await OrderChange.ReadAsync(db, ids, cancellationToken);
        var wake = false;
        foreach (var change in orders)
        {
            if (change.Status is OrderStatus.Paused or OrderStatus.Deleted or OrderStatus.Expired)
            {
                engine.StopOrder(change.OrderId);
            }
            wake |= change.Status is OrderStatus.Running or OrderStatus.Pending;
            notifier.PublishHere(change);
        }
        // Removed orders (an admin's last step after DELETED): their rows are gone; admin pages drop them.
        foreach (var removed in ids.Except(orders.Select(o => o.OrderId)))
        {
            engine.StopOrder(removed);
            notifier.Publish(OrderChangeNotifier.AllOrders, new OrderChange(removed, "", OrderStatus.Deleted, 0, false, 0));
        }
        if (wake)
        {
            signal.Wake();
        }
    }
}
