using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;

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
        typeof(Regards.Portal.Processing.ProcessingCatalog),
        typeof(Regards.Portal.Orders.OrderService),
        typeof(Regards.Portal.Orders.OrderChangeNotifier),
    ];

    public static BunitContext Create(PortalAppFactory app, string? signedInAs = null, params string[] roles)
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddLocalization();
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
        // Pages that remember choices in the browser (columns): protected with the app's keys, over bUnit's JS.
        var dataProtection = app.Services.GetRequiredService<Microsoft.AspNetCore.DataProtection.IDataProtectionProvider>();
        ctx.Services.AddScoped(sp => new Microsoft.AspNetCore.Components.Server.ProtectedBrowserStorage.ProtectedLocalStorage(
            sp.GetRequiredService<Microsoft.JSInterop.IJSRuntime>(), dataProtection));
        ctx.Render<MudBlazor.MudPopoverProvider>();
        return ctx;
    }
}
