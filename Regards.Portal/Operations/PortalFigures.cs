using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Storage;

namespace Regards.Portal.Operations;

/// <summary>One failure an operator should look at (an order that failed, a mail given up).</summary>
public sealed record RecentFailure(DateTime At, string What, string Detail);

/// <summary>The figures read from the database: what the gauges of <see cref="PortalMetrics"/> and the System page show.</summary>
public sealed record PortalSnapshot(
    DateTimeOffset TakenAt,
    IReadOnlyDictionary<string, int> OrdersByStatus,
    int SubOrdersQueued,
    int SubOrdersStaging,
    int SubOrdersWaitingForUser,
    int MailsWaiting,
    int MailsGivenUp,
    IReadOnlyList<VolumeUse> Volumes,
    IReadOnlyList<RecentFailure> RecentFailures);

/// <summary>A folder of the portal and the room on its volume.</summary>
public sealed record VolumeUse(string Name, string Path, long TotalBytes, long FreeBytes);

/// <summary>
/// Reads the portal's figures with a few grouped counts (no row is loaded), at most once per
/// <see cref="TelemetryOptions.FiguresRefreshInterval"/> in the background: a scrape or a page never waits for the database.
/// </summary>
public sealed class PortalFigures(IDbContextFactory<PortalDbContext> dbFactory, IOptions<StorageOptions> storage, TimeProvider time)
{
    private volatile PortalSnapshot? current;

    /// <summary>The last figures read, or null before the first refresh.</summary>
    public PortalSnapshot? Current => current;

    public async Task<PortalSnapshot> RefreshAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var orders = await db.Orders.GroupBy(o => o.Status).Select(g => new { Status = g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var subOrders = await db.SubOrders.Where(s => !s.External && s.JobState != SubOrderJobState.Ended)
            .GroupBy(s => new { s.JobState, s.WaitingForUser }).Select(g => new { g.Key.JobState, g.Key.WaitingForUser, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var mailsWaiting = await db.OutboxMails.CountAsync(m => !m.GaveUp, cancellationToken);
        var mailsGivenUp = await db.OutboxMails.CountAsync(m => m.GaveUp, cancellationToken);
        var failedOrders = await db.Orders.Where(o => o.Status == OrderStatus.Failed || o.Status == OrderStatus.Error)
            .OrderByDescending(o => o.StatusDate).Take(10).Select(o => new { o.Id, o.Status, o.StatusDate, o.Message }).ToListAsync(cancellationToken);
        var givenUp = await db.OutboxMails.Where(m => m.GaveUp).OrderByDescending(m => m.NextAttemptAt).Take(10)
            .Select(m => new { m.Id, m.Subject, m.NextAttemptAt, m.LastError }).ToListAsync(cancellationToken);

        var failures = failedOrders.Select(o => new RecentFailure(o.StatusDate, $"Order {o.Id} {o.Status.ToString().ToUpperInvariant()}", o.Message ?? ""))
            .Concat(givenUp.Select(m => new RecentFailure(m.NextAttemptAt, $"Mail {m.Id} given up: {m.Subject}", m.LastError ?? "")))
            .OrderByDescending(f => f.At).Take(10).ToList();
        var snapshot = new PortalSnapshot(
            time.GetUtcNow(),
            Enum.GetValues<OrderStatus>().ToDictionary(s => StatusName(s), s => orders.Where(o => o.Status == s).Sum(o => o.Count)),
            subOrders.Where(s => s.JobState == SubOrderJobState.Queued).Sum(s => s.Count),
            subOrders.Where(s => s.JobState == SubOrderJobState.Staging).Sum(s => s.Count),
            subOrders.Where(s => s.WaitingForUser).Sum(s => s.Count),
            mailsWaiting,
            mailsGivenUp,
            [Volume("storage", storage.Value.Root), Volume("cache", storage.Value.CachePath)],
            failures);
        current = snapshot;
        return snapshot;
    }

    /// <summary>REGARDS' name of the status (DONE_WITH_WARNING), as the API writes it.</summary>
    public static string StatusName(OrderStatus status) => status switch
    {
        OrderStatus.DoneWithWarning => "DONE_WITH_WARNING",
        _ => status.ToString().ToUpperInvariant(),
    };

    private static VolumeUse Volume(string name, string path)
    {
        try
        {
            // On Unix the volume's figures are those of the folder's own file system (statfs), mount points included.
            // (A folder not made yet, such as the cache before the first order, is on its nearest existing parent's.)
            var folder = Path.GetFullPath(path);
            while (!Directory.Exists(folder) && Path.GetDirectoryName(folder) is { } parent)
            {
                folder = parent;
            }
            var mount = new DriveInfo(OperatingSystem.IsWindows() ? Path.GetPathRoot(folder)! : folder);
            return new VolumeUse(name, path, mount.TotalSize, mount.AvailableFreeSpace);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return new VolumeUse(name, path, 0, 0);
        }
    }
}

/// <summary>Refreshes <see cref="PortalFigures"/> every <see cref="TelemetryOptions.FiguresRefreshInterval"/>.</summary>
public sealed class PortalFiguresRefresher(PortalFigures figures, IOptions<TelemetryOptions> options, TimeProvider time, ILogger<PortalFiguresRefresher> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await figures.RefreshAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "The portal's figures could not be read");
            }
            try
            {
                await Task.Delay(options.Value.FiguresRefreshInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
