using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Regards.Portal.Admin;
using Regards.Portal.Admin.Components;
using Regards.Portal.Infrastructure;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Admin;

public sealed class AdminSettingsTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public AdminSettingsTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.Settings["Orders:SubOrderDurationHours"] = "100";
    }

    private UiModuleService Modules => factory.Services.GetRequiredService<UiModuleService>();
    private PortalSettingsService PortalSettings => factory.Services.GetRequiredService<PortalSettingsService>();

    [Fact]
    public async Task Modules_have_spec_defaults_until_an_admin_saves_them()
    {
        var cart = await Modules.GetAsync(UiModuleSettings.OrderCart);
        Assert.True(cart.Active);
        Assert.True(cart.DisplayDatasets);
        Assert.Equal("Mon panier", cart.Title("fr"));
        Assert.Equal("My cart", cart.Title("en"));
    }

    [Fact]
    public async Task Saving_a_module_persists_it_notifies_open_pages_and_keeps_one_home_page()
    {
        var notified = new List<string>();
        Modules.Changed += notified.Add;
        try
        {
            var history = UiModuleSettings.Default(UiModuleSettings.OrderHistory);
            history.IsHomePage = true;
            history.TitleEn = "Orders";
            await Modules.SaveAsync(history, "admin@regards.local");
            var cart = UiModuleSettings.Default(UiModuleSettings.OrderCart);
            cart.IsHomePage = true;
            cart.DisplayDatasets = false;
            await Modules.SaveAsync(cart, "admin@regards.local");

            await using var db = factory.CreateDbContext();
            var rows = await db.UiModuleSettings.AsNoTracking().ToDictionaryAsync(m => m.ModuleId);
            Assert.True(rows[UiModuleSettings.OrderCart].IsHomePage);
            Assert.False(rows[UiModuleSettings.OrderCart].DisplayDatasets);
            Assert.False(rows[UiModuleSettings.OrderHistory].IsHomePage);
            Assert.Equal("Orders", rows[UiModuleSettings.OrderHistory].TitleEn);
            Assert.Equal([UiModuleSettings.OrderHistory, UiModuleSettings.OrderCart], notified);
            Assert.False((await Modules.GetAsync(UiModuleSettings.OrderCart)).DisplayDatasets);
        }
        finally
        {
            Modules.Changed -= notified.Add;
        }
    }

    [Fact]
    public async Task An_invalid_module_is_refused_with_a_code_and_nothing_is_written()
    {
        var menu = UiModuleSettings.Default(UiModuleSettings.Menu);
        menu.TitleFr = " ";
        var error = await Assert.ThrowsAsync<PortalException>(() => Modules.SaveAsync(menu, "admin@regards.local"));
        Assert.Equal("TITLE_REQUIRED", error.Code);
        menu.TitleFr = new string('x', 101);
        error = await Assert.ThrowsAsync<PortalException>(() => Modules.SaveAsync(menu, "admin@regards.local"));
        Assert.Equal("TITLE_TOO_LONG", error.Code);

        await using var db = factory.CreateDbContext();
        // Other tests of this class may have saved the menu; none of the refused values reached the row.
        Assert.False(await db.UiModuleSettings.AnyAsync(m => m.ModuleId == UiModuleSettings.Menu && (m.TitleFr == " " || m.TitleFr.Length > 100)));
    }

    [Fact]
    public async Task Order_settings_default_to_configuration_and_an_admin_save_overrides_them()
    {
        var defaults = await PortalSettings.GetAsync();
        Assert.Equal(100, defaults.SubOrderDurationHours);
        Assert.Equal(2, defaults.ApplicationSubOrderDurationHours);
        Assert.Equal(168, defaults.MaxExpirationHours);
        Assert.Equal(-1, defaults.DefaultMaxDownloads);

        var bad = PortalSettings.Defaults with { DefaultMaxConcurrentDownloads = 0 };
        Assert.Equal("BAD_SETTING", (await Assert.ThrowsAsync<PortalException>(() => PortalSettings.SaveAsync(bad, "admin"))).Code);
        // The bounds of the configured defaults: beyond them an expiration would not even be a date.
        var tooLong = PortalSettings.Defaults with { MaxExpirationHours = Regards.Portal.Orders.OrdersOptions.MaxExpirationLimitHours + 1 };
        Assert.Equal("BAD_SETTING", (await Assert.ThrowsAsync<PortalException>(() => PortalSettings.SaveAsync(tooLong, "admin"))).Code);

        var changed = PortalSettings.Defaults with { ReminderDelayHours = 24, DefaultMaxDownloads = 50 };
        await PortalSettings.SaveAsync(changed, "admin");
        var saved = await PortalSettings.GetAsync();
        Assert.Equal(24, saved.ReminderDelayHours);
        Assert.Equal(50, saved.DefaultMaxDownloads);
    }

    [Fact]
    public async Task Module_panel_shows_the_localised_title_and_applies_a_save_at_once()
    {
        await using var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddLocalization();
        ctx.Services.AddSingleton(Modules);
        ctx.Render<MudBlazor.MudPopoverProvider>();

        var panel = ctx.Render<ModulePanel>(p => p
            .Add(x => x.ModuleId, UiModuleSettings.Menu)
            .AddChildContent("<p id='content'>module content</p>"));
        Assert.Contains("Menu", panel.Find("[data-testid=module-title]").TextContent);
        panel.Find("#content");

        var menu = UiModuleSettings.Default(UiModuleSettings.Menu);
        menu.Active = false;
        await Modules.SaveAsync(menu, "admin@regards.local");
        panel.WaitForAssertion(() => panel.Find("[data-testid=module-disabled]"));
        Assert.Empty(panel.FindAll("#content"));
    }
}
