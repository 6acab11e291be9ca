using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Identity;

namespace Regards.Portal.Catalog;

/// <summary>
/// Effective access level of a caller on each dataset: the dataset's public level, raised by the rights of the
/// caller's access groups; admins have Full access everywhere. Anonymous callers get the public levels
/// (they may browse but never add to a cart). Groups are granted to e-mail addresses, possibly before anyone
/// registers them: a membership counts only for the account that owns the address and has confirmed it.
/// </summary>
public sealed class CatalogAccess(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<IReadOnlyDictionary<string, AccessLevel>> GetLevelsAsync(Caller? caller, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var levels = await db.Datasets.AsNoTracking().ToDictionaryAsync(d => d.Id, d => d.PublicAccess, cancellationToken);
        if (caller is null)
        {
            return levels;
        }
        if (caller.IsAdmin)
        {
            return levels.Keys.ToDictionary(id => id, _ => AccessLevel.Full);
        }

        var normalized = caller.Email.ToUpperInvariant();
        if (!await db.Users.AnyAsync(u => u.NormalizedUserName == normalized && u.NormalizedEmail == normalized && u.EmailConfirmed, cancellationToken))
        {
            return levels;
        }
        var rights = await (
                from membership in db.UserAccessGroups
                join right in db.DatasetAccessRights on membership.GroupName equals right.GroupName
                where membership.UserEmail == caller.Email
                select new { right.DatasetId, right.Level })
            .ToListAsync(cancellationToken);
        foreach (var right in rights)
        {
            if (levels.TryGetValue(right.DatasetId, out var current) && right.Level > current)
            {
                levels[right.DatasetId] = right.Level;
            }
        }
        return levels;
    }

    /// <summary>Datasets whose objects the caller may add to a cart and order.</summary>
    public async Task<IReadOnlyList<string>> GetOrderableDatasetIdsAsync(Caller caller, CancellationToken cancellationToken = default) =>
        (await GetLevelsAsync(caller, cancellationToken)).Where(kv => kv.Value == AccessLevel.Full).Select(kv => kv.Key).ToList();

    /// <summary>Datasets the caller may see in the catalog (metadata).</summary>
    public async Task<IReadOnlyList<string>> GetVisibleDatasetIdsAsync(Caller? caller, CancellationToken cancellationToken = default) =>
        (await GetLevelsAsync(caller, cancellationToken)).Where(kv => kv.Value >= AccessLevel.MetadataOnly).Select(kv => kv.Key).ToList();
}
