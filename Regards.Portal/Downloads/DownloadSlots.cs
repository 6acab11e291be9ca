using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Regards.Portal.Cluster;
using Regards.Portal.Data;

namespace Regards.Portal.Downloads;

/// <summary>
/// A zip, metalink or raw-file response in progress for a user under a concurrency limit, held by one instance so that
/// the limit holds across instances. The holder renews <see cref="ExpiresAt"/> while it runs; a killed instance's
/// slots lapse on their own (<see cref="ClusterOptions.DownloadSlotLease"/>).
/// </summary>
public class DownloadSlotLease
{
    public long Id { get; set; }

    /// <summary>The user's normalized (upper-case) e-mail.</summary>
    public required string Owner { get; set; }

    public ConcurrencyKind Kind { get; set; }
    public required string Instance { get; set; }
    public DateTime ExpiresAt { get; set; }
}

internal sealed class DownloadSlotLeaseConfiguration : IEntityTypeConfiguration<DownloadSlotLease>
{
    public void Configure(EntityTypeBuilder<DownloadSlotLease> e)
    {
        e.ToTable("DownloadSlots");
        e.Property(x => x.Owner).HasMaxLength(256);
        e.Property(x => x.Instance).HasMaxLength(100);
        e.HasIndex(x => new { x.Owner, x.Kind });
        e.HasIndex(x => x.Instance);
    }
}

/// <summary>
/// Concurrency limits counted in the database, so that N instances behind a load balancer allow a user what one does.
/// Taking a slot is a count and an insert under a per-user lock (PostgreSQL advisory lock, SQL Server application lock,
/// SQLite's single writer); only limited users pay it (raw downloads are unlimited by default). This instance renews
/// its slots every third of <see cref="ClusterOptions.DownloadSlotLease"/>; a killed instance's slots lapse after it.
/// </summary>
public sealed class DownloadSlots(
    IDbContextFactory<PortalDbContext> dbFactory,
    ChangeFeed feed,
    TimeProvider time,
    ILogger<DownloadSlots> logger) : BackgroundService
{
    private TimeSpan Lease => feed.Options.DownloadSlotLease;

    /// <summary>The slot's id, or null when the user already holds <paramref name="max"/> of that kind on all instances.</summary>
    public async Task<long?> TryTakeAsync(string owner, ConcurrencyKind kind, int max, CancellationToken cancellationToken)
    {
        var normalized = owner.ToUpperInvariant();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await ProviderSql.LockForTransactionAsync(db, $"download-slots:{normalized}", cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var slots = db.Set<DownloadSlotLease>();
        if (await slots.CountAsync(s => s.Owner == normalized && s.Kind == kind && s.ExpiresAt > now, cancellationToken) >= max)
        {
            return null;
        }
        var slot = new DownloadSlotLease { Owner = normalized, Kind = kind, Instance = feed.InstanceId, ExpiresAt = now + Lease };
        slots.Add(slot);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return slot.Id;
    }

    /// <summary>Gives the slot back (the response ended, however).</summary>
    public async Task ReleaseAsync(long id)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            await db.Set<DownloadSlotLease>().Where(s => s.Id == id).ExecuteDeleteAsync();
        }
        catch (Exception e)
        {
            // It lapses with its lease.
            logger.LogWarning(e, "Download slot {Id} could not be given back; it lapses within {Lease}", id, Lease);
        }
    }

    /// <summary>The user's slots of that kind held now, on all instances.</summary>
    public async Task<int> CountAsync(string owner, ConcurrencyKind kind, CancellationToken cancellationToken = default)
    {
        var normalized = owner.ToUpperInvariant();
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Set<DownloadSlotLease>().CountAsync(s => s.Owner == normalized && s.Kind == kind && s.ExpiresAt > now, cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Lease / 3, time, stoppingToken);
                await RenewAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Download slots could not be renewed");
            }
        }
    }

    /// <summary>Renews this instance's slots and clears lapsed ones (any instance's).</summary>
    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var until = now + Lease;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var slots = db.Set<DownloadSlotLease>();
        await slots.Where(s => s.Instance == feed.InstanceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiresAt, until), cancellationToken);
        await slots.Where(s => s.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
    }
}
