using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Notifications;

/// <summary>
/// The e-mails of an order's life. The orders feature calls it at the right moments; the notifications
/// feature composes the messages (with public-token metalink links) and sends them (SMTP or pickup folder).
/// The mails that announce a change are added to the caller's context and queued by its save, with that change:
/// a crash between the two can neither lose the mail nor send one for a change that was not written.
/// </summary>
public interface IOrderMailer
{
    /// <summary>The order was created: metalink link (public token) and the orders page link.</summary>
    void OrderCreated(PortalDbContext db, Order order);

    /// <summary>A sub-order waits for the user: its files are available.</summary>
    void FilesAvailable(PortalDbContext db, Order order, int subOrderSequence, int subOrdersCount);

    /// <summary>One reminder per user listing orders whose files have waited too long.</summary>
    Task ReminderAsync(string owner, IReadOnlyList<Order> orders, CancellationToken cancellationToken = default);

    /// <summary>The order expires within a day while files are still available.</summary>
    void ExpiresSoon(PortalDbContext db, Order order);

    /// <summary>An admin changed the expiration: new links (links already sent stop at the former date).</summary>
    void ExpirationChanged(PortalDbContext db, Order order, DateTime? previous);
}
