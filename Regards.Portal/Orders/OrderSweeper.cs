using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Admin;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;
using Regards.Portal.Notifications;
using Regards.Portal.Storage;

namespace Regards.Portal.Orders;

/// <summary>
/// Periodic sweeps of orders.md §6, each under a database lease so one instance runs it at a time: expiry
/// (orders past their date → EXPIRED, jobs stopped, cache released, order files deleted), the "expires tomorrow"
/// warning, and the weekday reminder of files waiting too long.
/// </summary>
public sealed class OrderSweeper(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    OrderEngine engine,
    EngineSignal signal,
    OrderChangeNotifier notifier,
    IOrderMailer mailer,
    PortalSettingsService settings,
    IOptions<OrdersOptions> options,
    TimeProvider time,
    ILogger<OrderSweeper> logger) : BackgroundService
{
    private const string ExpiryLease = "orders-expiry";
    private const string ReminderLease = "orders-reminder";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.EngineEnabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Order sweep failed");
            }
            try
            {
                await Task.Delay(options.Value.ExpiryCheckInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    public async Task SweepAsync(CancellationToken cancellationToken)
    {
        if (await TryLeaseAsync(ExpiryLease, options.Value.ExpiryCheckInterval / 2, cancellationToken))
        {
            await ExpireAsync(cancellationToken);
            await WarnExpiringAsync(cancellationToken);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var local = time.GetLocalNow();
        if (local.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday) && local.Hour >= options.Value.ReminderHour &&
            await TryLeaseUntilAsync(ReminderLease, NextReminder(local).UtcDateTime, now, cancellationToken))
        {
            await RemindAsync(cancellationToken);
        }
    }

    public async Task ExpireAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var expirable = OrderStateMachine.Table[OrderAction.Expire].From.ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var due = await db.Orders.Where(o => o.ExpirationDate < now && expirable.Contains(o.Status)).Select(o => o.Id).ToListAsync(cancellationToken);
        foreach (var orderId in due)
        {
            if (!await OrderBulk.TryExpireAsync(db, orderId, now, cancellationToken))
            {
                continue;
            }
            engine.StopOrder(orderId);
            await storage.ReleaseOrderAsync(orderId, cancellationToken);
            var order = await db.Orders.AsNoTracking().FirstAsync(o => o.Id == orderId, cancellationToken);
            notifier.Publish(order);
            logger.LogInformation("Order {OrderId} of {Owner} expired", orderId, order.Owner);
        }
        if (due.Count > 0)
        {
            // Their throttle slots are free.
            signal.Wake();
        }
    }

    /// <summary>How close to its expiration an order "expires soon" (the e-mail, the clock on the pages).</summary>
    public static readonly TimeSpan ExpiresSoonWindow = TimeSpan.FromDays(1);

    private async Task WarnExpiringAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var tomorrow = now + ExpiresSoonWindow;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var orders = await db.Orders.AsNoTracking()
            .Where(o => !o.ExpiryWarningSent && o.AvailableFilesCount > 0 && o.ExpirationDate > now && o.ExpirationDate <= tomorrow)
            .ToListAsync(cancellationToken);
        foreach (var order in orders)
        {
            // The flag and the queued mail in one transaction: the warning is sent once, and never lost by a crash.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (await OrderBulk.TryMarkExpiryWarningSentAsync(db, order.Id, cancellationToken))
            {
                mailer.ExpiresSoon(db, order);
                await db.SaveChangesAsync(cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
    }

    public async Task RemindAsync(CancellationToken cancellationToken)
    {
        var delay = (await settings.GetAsync(cancellationToken)).ReminderDelayHours;
        var threshold = time.GetUtcNow().UtcDateTime.AddHours(-delay);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var orderIds = await db.SubOrders.Where(s => s.WaitingForUser && !s.External && s.StagedAt < threshold).Select(s => s.OrderId).Distinct().ToListAsync(cancellationToken);
        var orders = await db.Orders.AsNoTracking().Where(o => orderIds.Contains(o.Id) && o.Status != OrderStatus.Deleted && o.Status != OrderStatus.Expired).ToListAsync(cancellationToken);
        foreach (var group in orders.GroupBy(o => o.Owner))
        {
            await mailer.ReminderAsync(group.Key, group.OrderBy(o => o.Id).ToList(), cancellationToken);
        }
    }

    private DateTimeOffset NextReminder(DateTimeOffset local)
    {
        var next = new DateTimeOffset(local.Date.AddDays(1).AddHours(options.Value.ReminderHour), local.Offset);
        while (next.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday)
        {
            next = next.AddDays(1);
        }
        return next;
    }

    private async Task<bool> TryLeaseAsync(string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return await TryLeaseUntilAsync(name, now + duration, now, cancellationToken);
    }

    private Task<bool> TryLeaseUntilAsync(string name, DateTime until, DateTime now, CancellationToken cancellationToken) =>
        JobLeases.TryTakeAsync(dbFactory, name, engine.InstanceId, until, now, cancellationToken);
}
