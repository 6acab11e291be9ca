using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Admin;

public sealed record StatusCount(OrderStatus Status, int Count);

public sealed record DailyVolume(DateOnly Day, long OrderedBytes, long DownloadedBytes);

/// <param name="MailsFailing">Queued e-mails whose last attempt failed and that will be tried again.</param>
/// <param name="MailsGivenUp">E-mails given up after their last attempt (kept with their error).</param>
public sealed record OrdersDashboard(
    IReadOnlyList<StatusCount> Statuses, IReadOnlyList<DailyVolume> Days, int SubOrdersStaging, int SubOrdersWaiting, int MailsFailing, int MailsGivenUp);

/// <summary>The figures above the admin Orders list, each one aggregate query (no order is loaded).</summary>
public sealed class AdminDashboardService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public async Task<OrdersDashboard> GetAsync(int days = 14, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var statuses = await db.Orders.GroupBy(o => o.Status)
            .Select(g => new StatusCount(g.Key, g.Count()))
            .ToListAsync(cancellationToken);

        var today = time.GetUtcNow().UtcDateTime.Date;
        var since = today.AddDays(1 - days);
        var ordered = await db.Orders.Where(o => o.CreationDate >= since)
            .GroupBy(o => o.CreationDate.Date)
            .Select(g => new { Day = g.Key, Bytes = g.Sum(o => o.TotalSize) })
            .ToListAsync(cancellationToken);
        var downloaded = await db.OrderFiles.Where(f => f.DownloadedAt >= since)
            .GroupBy(f => f.DownloadedAt!.Value.Date)
            .Select(g => new { Day = g.Key, Bytes = g.Sum(f => f.Size) })
            .ToListAsync(cancellationToken);

        var volumes = Enumerable.Range(0, days).Select(i => since.AddDays(i)).Select(day => new DailyVolume(
            DateOnly.FromDateTime(day),
            ordered.Where(o => o.Day == day).Sum(o => o.Bytes),
            downloaded.Where(d => d.Day == day).Sum(d => d.Bytes))).ToList();

        var staging = await db.SubOrders.CountAsync(s => s.JobState == SubOrderJobState.Staging, cancellationToken);
        var waiting = await db.SubOrders.CountAsync(s => s.WaitingForUser && !s.Ended, cancellationToken);
        // A mail server that refuses everything shows here, not only in the logs.
        var failing = await db.OutboxMails.CountAsync(m => m.Attempts > 0 && !m.GaveUp, cancellationToken);
        var givenUp = await db.OutboxMails.CountAsync(m => m.GaveUp, cancellationToken);
        return new OrdersDashboard(statuses.OrderBy(s => s.Status).ToList(), volumes, staging, waiting, failing, givenUp);
    }
}
