using Bunit;
using Microsoft.AspNetCore.Components.Server.ProtectedBrowserStorage;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// A bUnit context with MudBlazor, localisation and loose JS interop, whose feature services are the real ones of a
/// <see cref="PortalAppFactory"/> (real SQLite database): components are tested over real data.
/// </summary>
public static class ComponentTestContext
{
    /// <summary>Services the pages inject; the factory's instances are shared with the component.</summary>
    public static readonly List<Type> AppServiceTypes =
    [
        typeof(TimeProvider),
        typeof(Regards.Portal.Catalog.CatalogAccess),
        typeof(Regards.Portal.Catalog.CatalogService),
        typeof(Regards.Portal.Basket.BasketService),
        typeof(Regards.Portal.Basket.BasketChangeNotifier),
        typeof(Regards.Portal.Admin.UiModuleService),
        typeof(Regards.Portal.Admin.PortalSettingsService),
        typeof(Regards.Portal.Admin.AdminDashboardService),
        typeof(Regards.Portal.Notifications.MailOutbox),
        typeof(Regards.Portal.Orders.OrderService),
        typeof(Regards.Portal.Orders.OrderSituations),
        typeof(Regards.Portal.Orders.OrderChangeNotifier),
        typeof(Regards.Portal.Downloads.DownloadService),
        typeof(Regards.Portal.Processing.ProcessingCatalog),
        typeof(Regards.Portal.Processing.ProcessingWords),
        typeof(Regards.Portal.Basket.IProcessingChoiceDescriber),
        typeof(IOptions<Regards.Portal.Orders.OrdersOptions>),
        typeof(IDataProtectionProvider),
    ];

    public static BunitContext Create(PortalAppFactory app, string? signedInAs = null, params string[] roles)
    {
        var ctx = CreateWithoutProviders(app, signedInAs, roles);
        ctx.Render<MudPopoverProvider>();
        return ctx;
    }

    /// <summary>Like <see cref="Create"/>, with services of the test's own (e.g. a fake clock) in place of the app's.</summary>
    public static BunitContext CreateWith(PortalAppFactory app, Action<IServiceCollection> configure, string? signedInAs = null, params string[] roles)
    {
        var ctx = CreateWithoutProviders(app, signedInAs, roles);
        configure(ctx.Services);
        ctx.Render<MudPopoverProvider>();
        return ctx;
    }

    /// <summary>
    /// Like <see cref="Create"/>, but hands back the popover provider (menus, selects, tooltips render there) and a
    /// dialog provider (dialogs and message boxes render there), so tests can find and click what they show.
    /// </summary>
    public static BunitContext CreateWithProviders(PortalAppFactory app, out IRenderedComponent<MudPopoverProvider> popovers,
        out IRenderedComponent<MudDialogProvider> dialogs, string? signedInAs = null, params string[] roles)
    {
        var ctx = CreateWithoutProviders(app, signedInAs, roles);
        popovers = ctx.Render<MudPopoverProvider>();
        dialogs = ctx.Render<MudDialogProvider>();
        return ctx;
    }

    private static BunitContext CreateWithoutProviders(PortalAppFactory app, string? signedInAs, string[] roles)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddPortalLocalization();
        var auth = ctx.AddAuthorization();
        if (signedInAs is not null)
        {
            auth.SetAuthorized(signedInAs);
            auth.SetRoles(roles);
        }
        // The app's own feature services (singletons over the test's database).
        foreach (var type in AppServiceTypes)
        {
            var instance = app.Services.GetService(type);
            if (instance is not null)
            {
                ctx.Services.AddSingleton(type, instance);
            }
        }
        // Scoped in the app (per circuit): one per test context, over the app's data protection keys.
        ctx.Services.AddScoped<ProtectedLocalStorage>();
        return ctx;
    }
}
