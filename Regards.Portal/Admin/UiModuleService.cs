using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;

using Regards.Portal.Cluster;

namespace Regards.Portal.Admin;

/// <summary>
/// Reads and saves the UI modules' settings. Reads are served from a small in-memory copy (pages ask on every
/// render); a save replaces it and tells open pages through <see cref="Changed"/>, so settings apply at once.
/// </summary>
public sealed class UiModuleService(IDbContextFactory<PortalDbContext> dbFactory, ChangeFeed feed, ILogger<UiModuleService> logger)
{
    private const int MaxTitleLength = 100;
    private const int MaxDescriptionLength = 500;

    private readonly SemaphoreSlim gate = new(1, 1);
    private IReadOnlyDictionary<string, UiModuleSettings>? cache;

    /// <summary>Raised after a save, with the module id. Subscribers must marshal to their renderer (InvokeAsync).</summary>
    public event Action<string>? Changed;

    public async Task<UiModuleSettings> GetAsync(string moduleId, CancellationToken cancellationToken = default)
    {
        var all = await GetAllAsync(cancellationToken);
        return all.TryGetValue(moduleId, out var settings) ? settings : throw PortalException.NotFound($"Module '{moduleId}'");
    }

    public async Task<IReadOnlyDictionary<string, UiModuleSettings>> GetAllAsync(CancellationToken cancellationToken = default)
    {
        if (cache is { } cached)
        {
            return cached;
        }
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (cache is null)
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                var stored = await db.UiModuleSettings.AsNoTracking().ToDictionaryAsync(m => m.ModuleId, cancellationToken);
                cache = UiModuleSettings.Modules.ToDictionary(id => id, id => stored.GetValueOrDefault(id) ?? UiModuleSettings.Default(id));
            }
            return cache;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task SaveAsync(UiModuleSettings settings, string actor, CancellationToken cancellationToken = default)
    {
        Validate(settings);
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var row = await db.UiModuleSettings.FirstOrDefaultAsync(m => m.ModuleId == settings.ModuleId, cancellationToken);
            if (row is null)
            {
                row = UiModuleSettings.Default(settings.ModuleId);
                db.UiModuleSettings.Add(row);
            }
            row.Active = settings.Active;
            row.Description = settings.Description.Trim();
            row.TitleEn = settings.TitleEn.Trim();
            row.TitleFr = settings.TitleFr.Trim();
            row.DisplayMode = settings.DisplayMode;
            row.IsHomePage = settings.IsHomePage;
            row.Icon = settings.Icon.Trim();
            row.DisplayDatasets = settings.DisplayDatasets;
            row.DisplayCartLink = settings.DisplayCartLink;
            row.CartVisibility = settings.CartVisibility;
            if (settings.IsHomePage)
            {
                // One home page at most.
                await db.UiModuleSettings.Where(m => m.ModuleId != settings.ModuleId && m.IsHomePage)
                    .ExecuteUpdateAsync(s => s.SetProperty(m => m.IsHomePage, false).SetProperty(m => m.Version, m => m.Version + 1), cancellationToken);
            }
            await db.SaveChangesAsync(cancellationToken);
            cache = null;
        }
        finally
        {
            gate.Release();
        }
        logger.LogInformation("UI module {Module} saved by {Actor}", settings.ModuleId, actor);
        feed.Announce(ChangeKinds.Module, settings.ModuleId);
        Changed?.Invoke(settings.ModuleId);
    }

    /// <summary>Another instance saved that module: the next read takes the modules from the database, and open pages hear it.</summary>
    public void Reload(string moduleId)
    {
        cache = null;
        Changed?.Invoke(moduleId);
    }

    private static void Validate(UiModuleSettings settings)
    {
        if (!UiModuleSettings.Modules.Contains(settings.ModuleId))
        {
            throw PortalException.NotFound($"Module '{settings.ModuleId}'");
        }
        if (string.IsNullOrWhiteSpace(settings.TitleEn) || string.IsNullOrWhiteSpace(settings.TitleFr))
        {
            throw PortalException.BadRequest("TITLE_REQUIRED", "Both the English and the French titles are required.");
        }
        if (settings.TitleEn.Length > MaxTitleLength || settings.TitleFr.Length > MaxTitleLength)
        {
            throw PortalException.BadRequest("TITLE_TOO_LONG", $"Titles are at most {MaxTitleLength} characters.");
        }
        if (settings.Description.Length > MaxDescriptionLength)
        {
            throw PortalException.BadRequest("DESCRIPTION_TOO_LONG", $"The description is at most {MaxDescriptionLength} characters.");
        }
    }
}
