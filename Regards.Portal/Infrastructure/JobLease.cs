using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Infrastructure;

/// <summary>A named database lease so that one instance at a time runs a periodic sweep (expiry, reminders, pruning).</summary>
public class JobLease
{
    public required string Name { get; set; }
    public string? Owner { get; set; }
    public DateTime ExpiresAt { get; set; }
}

public static class JobLeases
{
    /// <summary>Takes the named lease until <paramref name="until"/> if it is free (expired): one instance per sweep.</summary>
    public static async Task<bool> TryTakeAsync(IDbContextFactory<PortalDbContext> dbFactory, string name, string owner, DateTime until, DateTime now,
        CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.JobLeases.AnyAsync(l => l.Name == name, cancellationToken))
        {
            db.JobLeases.Add(new JobLease { Name = name, ExpiresAt = DateTime.MinValue.ToUniversalTime() });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another instance created it.
            }
        }
        // One conditional update: of two instances, one wins.
        return await db.JobLeases.Where(l => l.Name == name && l.ExpiresAt <= now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.Owner, owner).SetProperty(l => l.ExpiresAt, until), cancellationToken) == 1;
    }
}
