using Regards.Portal.Notifications;

namespace Regards.Portal.Orders;

/// <summary>Writes the order e-mails to the log; used until a real mail sender is registered.</summary>
internal sealed class LoggingOrderMailer(ILogger<LoggingOrderMailer> logger) : IOrderMailer
{
    public Task OrderCreatedAsync(Order order, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Mail to {Owner}: order {OrderId} \"{Label}\" created", order.Owner, order.Id, order.Label);
        return Task.CompletedTask;
    }

    public Task FilesAvailableAsync(Order order, int subOrderSequence, int subOrdersCount, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Mail to {Owner}: files of sub-order {Sequence}/{Count} of order {OrderId} are available", order.Owner, subOrderSequence, subOrdersCount, order.Id);
        return Task.CompletedTask;
    }

    public Task ReminderAsync(string owner, IReadOnlyList<Order> orders, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Mail to {Owner}: reminder for orders {Orders}", owner, string.Join(", ", orders.Select(o => o.Id)));
        return Task.CompletedTask;
    }

    public Task ExpiresSoonAsync(Order order, CancellationToken cancellationToken = default)
    {
        logger.LogInformation("Mail to {Owner}: order {OrderId} expires on {Expiration:u}", order.Owner, order.Id, order.ExpirationDate);
        return Task.CompletedTask;
    }
}
