using Regards.Portal.Orders;

namespace Regards.Portal.Notifications;

/// <summary>
/// The e-mails of an order's life. The orders feature calls it at the right moments; the notifications
/// feature composes the messages (with public-token metalink links) and sends them (SMTP or pickup folder).
/// </summary>
public interface IOrderMailer
{
    /// <summary>The order was created: metalink link (public token) and the orders page link.</summary>
    Task OrderCreatedAsync(Order order, CancellationToken cancellationToken = default);

    /// <summary>A sub-order waits for the user: its files are available.</summary>
    Task FilesAvailableAsync(Order order, int subOrderSequence, int subOrdersCount, CancellationToken cancellationToken = default);

    /// <summary>One reminder per user listing orders whose files have waited too long.</summary>
    Task ReminderAsync(string owner, IReadOnlyList<Order> orders, CancellationToken cancellationToken = default);

    /// <summary>The order expires within a day while files are still available.</summary>
    Task ExpiresSoonAsync(Order order, CancellationToken cancellationToken = default);
}
