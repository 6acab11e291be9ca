using Regards.Portal.Infrastructure;

namespace Regards.Portal.Orders;

/// <summary>
/// Pushes order changes to open pages: each owner's key, and <see cref="AllOrders"/> for admin pages.
/// The engine never waits for a page (handlers run detached).
/// </summary>
public sealed class OrderChangeNotifier(ILogger<OrderChangeNotifier> logger) : KeyedNotifier<string, OrderChange>(logger)
{
    public const string AllOrders = "*";

    public void Publish(Order order)
    {
        var change = new OrderChange(order.Id, order.Owner, order.Status, order.PercentCompleted, order.WaitingForUser, order.AvailableFilesCount);
        Publish(order.Owner, change);
        Publish(AllOrders, change);
    }
}

public sealed record OrderChange(long OrderId, string Owner, OrderStatus Status, int PercentCompleted, bool WaitingForUser, int AvailableFilesCount);
