using System.Globalization;
using Microsoft.Extensions.Options;
using MimeKit;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;

namespace Regards.Portal.Notifications;

/// <summary>The order e-mails of orders.md (created, files available, reminder, expires soon), text and HTML, queued in the outbox.</summary>
public sealed class OrderMailer(MailOutbox outbox, OrderTokens tokens, IOptions<MailOptions> options) : IOrderMailer
{
    private string BaseUrl => options.Value.PortalBaseUrl.TrimEnd('/');

    /// <summary>Metalink 3, as REGARDS mails it: the REGARDS Downloader reads only that one, aria2 reads it too.</summary>
    private string MetalinkUrl(Order order) => MetalinkLinks.Public(BaseUrl, tokens.Create(order), MetalinkFormat.V3);

    private string OrdersPage => $"{BaseUrl}/orders";

    public void OrderCreated(PortalDbContext db, Order order) =>
        outbox.Add(db, Compose(order.Owner, $"[REGARDS] Order \"{order.Label}\" created",
        [
            $"Your order \"{order.Label}\" (#{order.Id}) was created: {order.FilesCount} files, {order.TotalSize:N0} bytes.",
            $"It is available until {Date(order.ExpirationDate)}.",
            $"Download all files with a download client from this metalink (open it in the REGARDS Downloader, or run aria2c -M on the saved file with --check-integrity=true): {MetalinkUrl(order)}",
            $"Follow its progress on your orders page: {OrdersPage}",
        ]));

    public void FilesAvailable(PortalDbContext db, Order order, int subOrderSequence, int subOrdersCount) =>
        outbox.Add(db, Compose(order.Owner, $"[REGARDS] Files of order \"{order.Label}\" are available",
        [
            $"Sub-order {subOrderSequence} of {subOrdersCount} of your order \"{order.Label}\" (#{order.Id}) is ready.",
            "Download its files so that the next sub-orders can be prepared.",
            $"Metalink: {MetalinkUrl(order)}",
            $"Your orders: {OrdersPage}",
        ]));

    public Task ReminderAsync(string owner, IReadOnlyList<Order> orders, CancellationToken cancellationToken = default) =>
        outbox.EnqueueAsync(Compose(owner, "[REGARDS] Files are waiting for you",
        [
            "These orders have files waiting to be downloaded; the next sub-orders wait for them:",
            .. orders.Select(o => $"- \"{o.Label}\" (#{o.Id}), available until {Date(o.ExpirationDate)}: {MetalinkUrl(o)}"),
            $"Your orders: {OrdersPage}",
        ]), cancellationToken);

    public void ExpiresSoon(PortalDbContext db, Order order) =>
        outbox.Add(db, Compose(order.Owner, $"[REGARDS] Order \"{order.Label}\" expires tomorrow",
        [
            $"Your order \"{order.Label}\" (#{order.Id}) expires on {Date(order.ExpirationDate)}; its files will then be deleted.",
            $"Metalink: {MetalinkUrl(order)}",
            $"Your orders: {OrdersPage}",
        ]));

    public void ExpirationChanged(PortalDbContext db, Order order, DateTime? previous) =>
        outbox.Add(db, Compose(order.Owner, $"[REGARDS] Order \"{order.Label}\" now expires on {Date(order.ExpirationDate)}",
        [
            $"The expiration of your order \"{order.Label}\" (#{order.Id}) was changed from {Date(previous)} to {Date(order.ExpirationDate)}.",
            previous < order.ExpirationDate
                ? $"Links sent before stop working on {Date(previous)}; this metalink works until the new date: {MetalinkUrl(order)}"
                : $"Its files will be deleted on that date. Metalink: {MetalinkUrl(order)}",
            $"Your orders: {OrdersPage}",
        ]));

    private static string Date(DateTime? utc) => utc?.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "-";

    private static MimeMessage Compose(string to, string subject, IReadOnlyList<string> lines) => MailText.Compose(to, subject, lines);
}
