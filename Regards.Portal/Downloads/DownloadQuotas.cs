using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Admin;
using Regards.Portal.Cluster;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Downloads;

/// <summary>A user's effective limits: their own when an admin set them, else the portal defaults; -1 = unlimited.</summary>
public sealed record DownloadLimits(int MaxDownloads, int MaxConcurrentDownloads, int DownloadsCount)
{
    public int? Remaining => MaxDownloads < 0 ? null : Math.Max(0, MaxDownloads - DownloadsCount);
}

/// <summary>What a user's concurrent responses are counted as: every file or zip response (the admin setting
/// <c>MaxConcurrentDownloads</c>), and zips and metalinks each on their own (<see cref="DownloadOptions"/>).</summary>
public enum ConcurrencyKind
{
    Download,
    Zip,
    Metalink,
}

/// <summary>
/// Per-user download quotas of api.md: completed raw-data downloads counted in the database (atomic increments)
/// while a quota applies to the user (unlimited users cost no write per download),
/// concurrent responses of a limited user counted in the database across instances (<see cref="DownloadSlots"/>, a slot
/// held for the duration of one response), and in this instance for everyone (<see cref="Running"/>).
/// </summary>
public sealed class DownloadQuotas
{
    /// <summary>How long the limits of a user without a download quota are reused (an admin change on another instance
    /// shows within this delay plus <see cref="PortalSettingsService.CacheLifetime"/> for the portal defaults; on this one at once).</summary>
    private static readonly TimeSpan UnlimitedCacheDuration = TimeSpan.FromSeconds(30);

    private readonly IDbContextFactory<PortalDbContext> dbFactory;
    private readonly PortalSettingsService settings;
    private readonly TimeProvider time;
    private readonly DownloadOptions options;
    private readonly DownloadSlots slots;
    private readonly ChangeFeed feed;
    private readonly ConcurrentDictionary<(ConcurrencyKind Kind, string Owner), int> running = new();

    /// <summary>Users without a completed-downloads quota: nothing to count, so their limits need no query per download.</summary>
    private readonly ConcurrentDictionary<string, (DownloadLimits Limits, DateTime Until)> unlimited = new(StringComparer.OrdinalIgnoreCase);

    public DownloadQuotas(IDbContextFactory<PortalDbContext> dbFactory, PortalSettingsService settings, TimeProvider time, IOptions<DownloadOptions> options,
        DownloadSlots slots, ChangeFeed feed)
    {
        this.slots = slots;
        this.feed = feed;
        this.dbFactory = dbFactory;
        this.settings = settings;
        this.time = time;
        this.options = options.Value;
        settings.Changed += unlimited.Clear;
    }

    public async Task<DownloadLimits> GetLimitsAsync(string owner, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (unlimited.TryGetValue(owner, out var cached) && cached.Until > now)
        {
            return cached.Limits;
        }
        var limits = await ReadLimitsAsync(owner, cancellationToken);
        if (limits.MaxDownloads < 0)
        {
            unlimited[owner] = (limits, now + UnlimitedCacheDuration);
        }
        return limits;
    }

    private async Task<DownloadLimits> ReadLimitsAsync(string owner, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = owner.ToUpperInvariant();
        var user = await db.Users.AsNoTracking().Where(u => u.NormalizedEmail == normalized)
            .Select(u => new { u.MaxDownloads, u.MaxConcurrentDownloads, u.DownloadsCount }).FirstOrDefaultAsync(cancellationToken);
        var defaults = await settings.GetAsync(cancellationToken);
        return new DownloadLimits(
            user is { MaxDownloads: >= 0 } ? user.MaxDownloads : defaults.DefaultMaxDownloads,
            user is { MaxConcurrentDownloads: >= 0 } ? user.MaxConcurrentDownloads : defaults.DefaultMaxConcurrentDownloads,
            user?.DownloadsCount ?? 0);
    }

    /// <summary>Takes a concurrent-download slot or answers 429; the quota of completed downloads is checked too.</summary>
    public async Task<DownloadSlot> AcquireAsync(string owner, CancellationToken cancellationToken)
    {
        var limits = await GetLimitsAsync(owner, cancellationToken);
        if (limits.Remaining == 0)
        {
            throw new PortalException(StatusCodes.Status429TooManyRequests, "DOWNLOAD_QUOTA_EXCEEDED",
                $"The download quota of {limits.MaxDownloads} files is used up; ask an administrator to raise it.");
        }
        var max = limits.MaxConcurrentDownloads;
        return await EnterAsync(ConcurrencyKind.Download, owner, max, limits, cancellationToken) ??
            throw new PortalException(StatusCodes.Status429TooManyRequests, "TOO_MANY_CONCURRENT_DOWNLOADS",
                $"At most {max} downloads at the same time; retry when one has finished.") { RetryAfterSeconds = ConcurrencyRetryAfterSeconds };
    }

    /// <summary>
    /// Takes one of the user's zip or metalink slots (<see cref="DownloadOptions.MaxConcurrentZipsPerUser"/>,
    /// <see cref="DownloadOptions.MaxConcurrentMetalinksPerUser"/>, counted over all instances) or answers 429 + Retry-After.
    /// </summary>
    public async Task<DownloadSlot> AcquireStreamAsync(string owner, ConcurrencyKind kind, CancellationToken cancellationToken)
    {
        var (max, what) = kind switch
        {
            ConcurrencyKind.Zip => (options.MaxConcurrentZipsPerUser, "zips"),
            ConcurrencyKind.Metalink => (options.MaxConcurrentMetalinksPerUser, "metalinks"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return await EnterAsync(kind, owner, max, null, cancellationToken) ??
            throw new PortalException(StatusCodes.Status429TooManyRequests, $"TOO_MANY_CONCURRENT_{what.ToUpperInvariant()}",
                $"At most {max} {what} at the same time for one user; retry when one has finished.") { RetryAfterSeconds = ConcurrencyRetryAfterSeconds };
    }

    private const int ConcurrencyRetryAfterSeconds = 5;

    /// <summary>Counts the response here, and for a limited user takes a slot in the database; null when refused.</summary>
    private async Task<DownloadSlot?> EnterAsync(ConcurrencyKind kind, string owner, int max, DownloadLimits? limits, CancellationToken cancellationToken)
    {
        running.AddOrUpdate((kind, owner.ToUpperInvariant()), 1, (_, n) => n + 1);
        if (max < 0)
        {
            return new DownloadSlot(this, kind, owner, limits, null);
        }
        try
        {
            if (await slots.TryTakeAsync(owner, kind, max, cancellationToken) is { } lease)
            {
                return new DownloadSlot(this, kind, owner, limits, lease);
            }
        }
        catch
        {
            Release(kind, owner);
            throw;
        }
        Release(kind, owner);
        return null;
    }

    internal Task ReleaseLeaseAsync(long lease) => slots.ReleaseAsync(lease);

    /// <summary>
    /// Reserves one completed raw-data download before its bytes go, in one conditional increment: parallel requests
    /// cannot all pass a check made before any of them is counted. False when the quota is used up. A download that
    /// does not complete gives its reservation back (<see cref="ReleaseReservationAsync"/>).
    /// </summary>
    public async Task<bool> TryReserveAsync(string owner, DownloadLimits limits, CancellationToken cancellationToken)
    {
        if (limits.MaxDownloads < 0)
        {
            return true; // no quota: nothing to count
        }
        var max = limits.MaxDownloads;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = owner.ToUpperInvariant();
        return await db.Users.Where(u => u.NormalizedEmail == normalized && u.DownloadsCount < max)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.DownloadsCount, u => u.DownloadsCount + 1), cancellationToken) == 1;
    }

    /// <summary>
    /// Reserves up to <paramref name="wanted"/> completed downloads in one update (a zip's page of raw files) and answers
    /// how many it got: fewer once the quota is nearly used up, 0 when it is. All of them without a quota.
    /// </summary>
    public async Task<int> ReserveUpToAsync(string owner, DownloadLimits limits, int wanted, CancellationToken cancellationToken)
    {
        if (limits.MaxDownloads < 0 || wanted <= 0)
        {
            return Math.Max(0, wanted);
        }
        var max = limits.MaxDownloads;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = owner.ToUpperInvariant();
        while (true)
        {
            var count = await db.Users.Where(u => u.NormalizedEmail == normalized).Select(u => (int?)u.DownloadsCount).FirstOrDefaultAsync(cancellationToken);
            var grant = count is { } c ? Math.Min(wanted, max - c) : 0;
            if (grant <= 0)
            {
                return 0;
            }
            // Conditional on the count just read: a parallel reservation in between makes this one read again.
            if (await db.Users.Where(u => u.NormalizedEmail == normalized && u.DownloadsCount == count)
                    .ExecuteUpdateAsync(s => s.SetProperty(u => u.DownloadsCount, u => u.DownloadsCount + grant), cancellationToken) == 1)
            {
                return grant;
            }
        }
    }

    public Task ReleaseReservationAsync(string owner, DownloadLimits limits) => ReleaseReservationsAsync(owner, limits, 1);

    /// <summary>Gives back reservations of downloads that did not complete (a cut file, an unfinished zip).</summary>
    public async Task ReleaseReservationsAsync(string owner, DownloadLimits limits, int count)
    {
        if (limits.MaxDownloads < 0)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var normalized = owner.ToUpperInvariant();
        await db.Users.Where(u => u.NormalizedEmail == normalized && u.DownloadsCount > 0)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.DownloadsCount, u => u.DownloadsCount >= count ? u.DownloadsCount - count : 0), CancellationToken.None);
    }

    /// <summary>Admin: sets a user's own limits (-1 = the portal default applies) and optionally resets the count.</summary>
    public async Task SetUserLimitsAsync(string email, int maxDownloads, int maxConcurrentDownloads, bool resetCount, CancellationToken cancellationToken)
    {
        if (maxDownloads < -1 || maxConcurrentDownloads < -1)
        {
            throw PortalException.BadRequest("BAD_QUOTA", "Limits are -1 (default) or a positive number.");
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = email.ToUpperInvariant();
        var changed = await db.Users.Where(u => u.NormalizedEmail == normalized)
            .ExecuteUpdateAsync(s => s
                .SetProperty(u => u.MaxDownloads, maxDownloads)
                .SetProperty(u => u.MaxConcurrentDownloads, maxConcurrentDownloads)
                .SetProperty(u => u.DownloadsCount, u => resetCount ? 0 : u.DownloadsCount), cancellationToken);
        Forget(email);
        feed.Announce(ChangeKinds.Quota, email);
        if (changed == 0)
        {
            throw PortalException.NotFound("User");
        }
    }

    /// <summary>Drops what this instance remembers of the user's limits (changed here or on another instance).</summary>
    public void Forget(string email) => unlimited.TryRemove(email, out _);

    /// <summary>The user's responses of that kind in progress on this instance.</summary>
    internal int Running(string owner, ConcurrencyKind kind = ConcurrencyKind.Download) => running.GetValueOrDefault((kind, owner.ToUpperInvariant()));

    internal void Release(ConcurrencyKind kind, string owner)
    {
        var key = (kind, owner.ToUpperInvariant());
        if (running.AddOrUpdate(key, 0, (_, n) => Math.Max(0, n - 1)) == 0)
        {
            // Bounded: a user with nothing running takes no entry (a racing take re-adds it).
            running.TryRemove(KeyValuePair.Create(key, 0));
        }
    }
}

/// <summary>One running response; disposing gives the concurrency slot back (here, and in the database when it took one).</summary>
public sealed class DownloadSlot(DownloadQuotas quotas, ConcurrencyKind kind, string owner, DownloadLimits? limits, long? lease) : IAsyncDisposable
{
    private int released;

    /// <summary>The owner's limits (download slots only).</summary>
    public DownloadLimits Limits => limits ?? throw new InvalidOperationException("A zip or metalink slot carries no limits.");

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref released, 1) == 0)
        {
            quotas.Release(kind, owner);
            if (lease is { } id)
            {
                await quotas.ReleaseLeaseAsync(id);
            }
        }
    }
}

/// <summary>An admin changed these users' limits on another instance.</summary>
public sealed class QuotaChangeRelay(DownloadQuotas quotas) : IRemoteChangeHandler
{
    public string Kind => ChangeKinds.Quota;

    public Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var email in keys)
        {
            quotas.Forget(email);
        }
        return Task.CompletedTask;
    }
}
