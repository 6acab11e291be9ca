using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;

using Regards.Portal.Cluster;

namespace Regards.Portal.Admin;

/// <summary>The order settings in force: the configuration's defaults, or an administrator's saved values.</summary>
public sealed record OrderSettings(
    int SubOrderDurationHours,
    int ApplicationSubOrderDurationHours,
    int MaxExpirationHours,
    int ReminderDelayHours,
    int DefaultMaxDownloads,
    int DefaultMaxConcurrentDownloads);

/// <summary>
/// The one source of the order settings an administrator can change (durations, reminder delay, default download
/// quotas). <see cref="OrdersOptions"/> and <see cref="DownloadOptions"/> give the defaults, validated at start-up; an
/// administrator's save stores all six values in the <see cref="PortalSettings"/> row, which then overrides them as a
/// whole (a default changed in the configuration later no longer applies once the page was saved). Completion, the
/// reminder sweep, the download quotas and the settings page all read <see cref="GetAsync"/>; no one reads these
/// values from the options or the configuration.
/// <para>
/// The values are cached. A save on this instance applies at once (and raises <see cref="Changed"/>); a save on
/// another instance reaches this one through the change feed (<see cref="Reload"/>, within about half a second), and
/// within <see cref="CacheLifetime"/> at worst if the feed was down.
/// </para>
/// </summary>
public sealed class PortalSettingsService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<OrdersOptions> orders,
    IOptions<DownloadOptions> downloads,
    TimeProvider time,
    ChangeFeed feed,
    ILogger<PortalSettingsService> logger)
{
    /// <summary>How long the values in force are reused: how stale another instance's save can be here.</summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim gate = new(1, 1);
    private volatile Cached? cache;

    /// <summary>Counts the saves of this instance: a read that overlapped one does not cache what it read.</summary>
    private long saves;

    public event Action? Changed;

    /// <summary>The configuration's values, in force until an administrator saves the page.</summary>
    public OrderSettings Defaults => new(
        orders.Value.SubOrderDurationHours,
        orders.Value.ApplicationSubOrderDurationHours,
        orders.Value.MaxExpirationHours,
        orders.Value.ReminderDelayHours,
        downloads.Value.DefaultMaxDownloads,
        downloads.Value.DefaultMaxConcurrentDownloads);

    /// <summary>The values in force.</summary>
    public async Task<OrderSettings> GetAsync(CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        if (cache is { } cached && cached.Until > now)
        {
            return cached.Settings;
        }
        var before = Interlocked.Read(ref saves);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.PortalSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        var settings = stored is null ? Defaults : new OrderSettings(
            stored.SubOrderDurationHours, stored.ApplicationSubOrderDurationHours, stored.MaxExpirationHours, stored.ReminderDelayHours,
            stored.DefaultMaxDownloads, stored.DefaultMaxConcurrentDownloads);
        if (Interlocked.Read(ref saves) == before)
        {
            cache = new Cached(settings, now + CacheLifetime);
        }
        return settings;
    }

    public async Task SaveAsync(OrderSettings settings, string actor, CancellationToken cancellationToken = default)
    {
        Validate(settings);
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = await db.PortalSettings.FirstOrDefaultAsync(cancellationToken);
            if (row is null)
            {
                row = new PortalSettings();
                db.PortalSettings.Add(row);
            }
            row.SubOrderDurationHours = settings.SubOrderDurationHours;
            row.ApplicationSubOrderDurationHours = settings.ApplicationSubOrderDurationHours;
            row.MaxExpirationHours = settings.MaxExpirationHours;
            row.ReminderDelayHours = settings.ReminderDelayHours;
            row.DefaultMaxDownloads = settings.DefaultMaxDownloads;
            row.DefaultMaxConcurrentDownloads = settings.DefaultMaxConcurrentDownloads;
            await db.SaveChangesAsync(cancellationToken);
            Interlocked.Increment(ref saves);
            cache = null;
        }
        finally
        {
            gate.Release();
        }
        logger.LogInformation("Order settings saved by {Actor}", actor);
        feed.Announce(ChangeKinds.Settings, "*");
        Changed?.Invoke();
    }

    /// <summary>Another instance saved the settings: the next read takes them from the database.</summary>
    public void Reload()
    {
        Interlocked.Increment(ref saves);
        cache = null;
        Changed?.Invoke();
    }

    /// <summary>The bounds of <see cref="OrdersOptions"/> and <see cref="DownloadOptions"/>, which the defaults pass at start-up.</summary>
    public static void Validate(OrderSettings settings)
    {
        if (settings.SubOrderDurationHours < 1 || settings.ApplicationSubOrderDurationHours < 1 || settings.ReminderDelayHours < 1 || settings.MaxExpirationHours < 1)
        {
            throw PortalException.BadRequest("BAD_SETTING", "Durations are at least one hour.");
        }
        if (settings.SubOrderDurationHours > OrdersOptions.MaxDurationHours || settings.ApplicationSubOrderDurationHours > OrdersOptions.MaxDurationHours ||
            settings.ReminderDelayHours > OrdersOptions.MaxDurationHours || settings.MaxExpirationHours > OrdersOptions.MaxExpirationLimitHours)
        {
            throw PortalException.BadRequest("BAD_SETTING",
                $"Durations are at most {OrdersOptions.MaxDurationHours:N0} hours, the maximum expiration at most {OrdersOptions.MaxExpirationLimitHours:N0}.");
        }
        if (settings.MaxExpirationHours < settings.ApplicationSubOrderDurationHours)
        {
            throw PortalException.BadRequest("BAD_SETTING", "The maximum expiration cannot be shorter than a sub-order duration.");
        }
        if (settings.DefaultMaxDownloads < -1 || settings.DefaultMaxConcurrentDownloads < -1 || settings.DefaultMaxConcurrentDownloads == 0)
        {
            throw PortalException.BadRequest("BAD_SETTING", "Quotas are -1 (unlimited) or a positive number.");
        }
    }

    private sealed record Cached(OrderSettings Settings, DateTimeOffset Until);
}
