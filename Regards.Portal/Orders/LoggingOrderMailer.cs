using Regards.Portal.Data;
using Regards.Portal.Notifications;

namespace Regards.Portal.Orders;

/// <summary>Writes the order e-mails to the log; used until a real mail sender is registered.</summary>
internal sealed class LoggingOrderMailer(ILogger<LoggingOrderMailer> logger) : IOrderMailer
{
    public void OrderCreated(PortalDbContext db, Order order) =>
        logger.LogInformation("Mail to {Owner}: order {OrderId} \"{Label}\" created", order.Owner, order.Id, order.Label);

    public void FilesAvailable(PortalDbContext db, Order order, int subOrderSequence, int subOrdersCount) =>
        logger.LogInformation("Mail to {Owner}: files of sub-order {Sequence}/{Count} of order {OrderId} are available", order.Owner, subOrderSequence, subOrdersCount, order.Id);

    public Task ReminderAsync(string owner, IReadOnlyList<Order> orders, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Mail to {Owner}: reminder for orders {Orders}", owner, string.Join(", ", orders.Select(o => o.Id)));
        return Task.CompletedTask;
    }

    public void ExpirationChanged(PortalDbContext db, Order order, DateTime? previous) =>
        logger.LogInformation("Mail to {Owner}: order {OrderId} now expires on {Expiration:u}", order.Owner, order.Id, order.ExpirationDate);

    public void ExpiresSoon(PortalDbContext db, Order order) =>
        logger.LogInformation("Mail to {Owner}: order {OrderId} expires on {Expiration:u}", order.Owner, order.Id, order.ExpirationDate);
}
