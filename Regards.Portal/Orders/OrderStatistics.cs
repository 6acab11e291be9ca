using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

public sealed record StatusCount(OrderStatus Status, int Count);

public sealed record DailyVolume(DateOnly Day, long OrderedBytes, long DownloadedBytes);

/// <param name="Staging">Sub-orders being staged now.</param>
/// <param name="WaitingForUser">Sub-orders staged and waiting for their user's downloads.</param>
public sealed record SubOrderLoad(int Staging, int WaitingForUser);

/// <summary>Figures over all orders (the admin dashboard): each one aggregate query, no order is loaded.</summary>
public sealed class OrderStatistics(IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <summary>Orders per status, in the statuses' order; statuses without an order are left out.</summary>
    public async Task<IReadOnlyList<StatusCount>> CountByStatusAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var statuses = await db.Orders.GroupBy(o => o.Status)
            .Select(g => new StatusCount(g.Key, g.Count()))
            .ToListAsync(cancellationToken);
        return statuses.OrderBy(s => s.Status).ToList();
    }

    /// <summary>
    /// For each of <paramref name="days"/> UTC days ending with <paramref name="lastDay"/>: the size of the orders created
    /// that day, and of the files downloaded that day.
    /// </summary>
    public async Task<IReadOnlyList<DailyVolume>> DailyVolumesAsync(DateOnly lastDay, int days, CancellationToken cancellationToken = default)
    {
        var since = lastDay.AddDays(1 - days).ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var ordered = await db.Orders.Where(o => o.CreationDate >= since)
            .GroupBy(o => o.CreationDate.Date)
            .Select(g => new { Day = g.Key, Bytes = g.Sum(o => o.TotalSize) })
            .ToListAsync(cancellationToken);
        var downloaded = await db.OrderFiles.Where(f => f.DownloadedAt >= since)
            .GroupBy(f => f.DownloadedAt!.Value.Date)
            .Select(g => new { Day = g.Key, Bytes = g.Sum(f => f.Size) })
            .ToListAsync(cancellationToken);

        return Enumerable.Range(0, days).Select(i => since.AddDays(i)).Select(day => new DailyVolume(
            DateOnly.FromDateTime(day),
            ordered.Where(o => o.Day == day).Sum(o => o.Bytes),
            downloaded.Where(d => d.Day == day).Sum(d => d.Bytes))).ToList();
    }

    public async Task<SubOrderLoad> SubOrderLoadAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var staging = await db.SubOrders.CountAsync(s => s.JobState == SubOrderJobState.Staging, cancellationToken);
        var waiting = await db.SubOrders.CountAsync(s => s.WaitingForUser && !s.Ended, cancellationToken);
        return new SubOrderLoad(staging, waiting);
    }
}
