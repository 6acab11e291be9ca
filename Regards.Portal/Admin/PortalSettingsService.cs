using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Admin;

/// <summary>
/// Order settings (durations, reminder delay, default download quotas): the configuration gives the
/// defaults (section <c>Orders</c> and <c>Downloads</c>), an administrator's save overrides them in the database.
/// </summary>
public sealed class PortalSettingsService(IDbContextFactory<PortalDbContext> dbFactory, IConfiguration configuration, ILogger<PortalSettingsService> logger)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private PortalSettings? cache;

    public event Action? Changed;

    public PortalSettings Defaults => new()
    {
        SubOrderDurationHours = configuration.GetValue("Orders:SubOrderDurationHours", 240),
        ApplicationSubOrderDurationHours = configuration.GetValue("Orders:ApplicationSubOrderDurationHours", 2),
        MaxExpirationHours = configuration.GetValue("Orders:MaxExpirationHours", 168),
        ReminderDelayHours = configuration.GetValue("Orders:ReminderDelayHours", 72),
        DefaultMaxDownloads = configuration.GetValue("Downloads:DefaultMaxDownloads", -1),
        DefaultMaxConcurrentDownloads = configuration.GetValue("Downloads:DefaultMaxConcurrentDownloads", -1),
    };

    public async Task<PortalSettings> GetAsync(CancellationToken cancellationToken = default)
    {
        if (cache is { } cached)
        {
            return cached;
        }
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stored = await db.PortalSettings.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        return cache = stored ?? Defaults;
    }

    public async Task SaveAsync(PortalSettings settings, string actor, CancellationToken cancellationToken = default)
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
            cache = null;
        }
        finally
        {
            gate.Release();
        }
        logger.LogInformation("Order settings saved by {Actor}", actor);
        Changed?.Invoke();
    }

    public static void Validate(PortalSettings settings)
    {
        if (settings.SubOrderDurationHours < 1 || settings.ApplicationSubOrderDurationHours < 1 || settings.ReminderDelayHours < 1)
        {
            throw PortalException.BadRequest("BAD_SETTING", "Durations are at least one hour.");
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
}
