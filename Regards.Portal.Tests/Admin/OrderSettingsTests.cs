using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Admin;
using Regards.Portal.Admin.Components;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Admin;

/// <summary>
/// One source of the order settings: the options give the defaults, an admin's save on the settings page overrides
/// them, and what the page shows is what completion applies.
/// </summary>
public sealed class OrderSettingsTests : IDisposable
{
    // Configured defaults unlike the built-in ones, so a reader that skips the options shows.
    private readonly PortalAppFactory factory = new()
    {
        Settings =
        {
            ["Orders:PollInterval"] = "00:00:00.050",
            ["Orders:SubOrderDurationHours"] = "100",
            ["Orders:ApplicationSubOrderDurationHours"] = "3",
            ["Orders:MaxExpirationHours"] = "500",
            ["Orders:ReminderDelayHours"] = "48",
            ["Downloads:DefaultMaxDownloads"] = "20",
            ["Downloads:DefaultMaxConcurrentDownloads"] = "4",
        },
    };

    public void Dispose() => factory.Dispose();

    private PortalSettingsService Settings => factory.Services.GetRequiredService<PortalSettingsService>();

    private static string Field(IRenderedComponent<AdminSettingsPage> page, string testId) =>
        page.Find($"input[data-testid={testId}]").GetAttribute("value") ?? "";

    [Fact]
    public async Task With_nothing_saved_the_service_and_the_settings_page_show_the_configured_options()
    {
        Assert.Equal(new OrderSettings(100, 3, 500, 48, 20, 4), await Settings.GetAsync());

        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Admin, PortalRoles.ProjectAdmin);
        var page = ctx.Render<AdminSettingsPage>();
        Assert.Equal("100", Field(page, "settings-suborder-duration"));
        Assert.Equal("3", Field(page, "settings-app-suborder-duration"));
        Assert.Equal("500", Field(page, "settings-max-expiration"));
        Assert.Equal("48", Field(page, "settings-reminder-delay"));
        Assert.Equal("20", Field(page, "settings-default-max-downloads"));
        Assert.Equal("4", Field(page, "settings-default-max-concurrent"));
    }

    [Fact]
    public async Task Durations_saved_on_the_settings_page_are_what_completion_gives_a_new_order()
    {
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Admin, PortalRoles.ProjectAdmin);
        var page = ctx.Render<AdminSettingsPage>();
        page.Find("input[data-testid=settings-suborder-duration]").Change("3");
        page.Find("input[data-testid=settings-max-expiration]").Change("1000");
        await page.InvokeAsync(() => page.Find("[data-testid=settings-save]").Click());
        await WaitForSavedAsync(3, 1000);

        // Not capped: (n + 2) × 3 h for n internal sub-orders (orders.md §4.5), not the configured 100 h / 500 h.
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var (order, subOrders) = await OrderUntilCompletedAsync(client, "saved duration");
        Assert.True(subOrders > 0);
        AssertLives(order, (subOrders + 2) * 3);

        // Capped by the saved maximum.
        page.Find("input[data-testid=settings-max-expiration]").Change("4");
        await page.InvokeAsync(() => page.Find("[data-testid=settings-save]").Click());
        await WaitForSavedAsync(3, 4);
        AssertLives((await OrderUntilCompletedAsync(client, "saved maximum")).Order, 4);
    }

    [Theory]
    [InlineData("Downloads:DefaultMaxConcurrentDownloads", "0")]
    [InlineData("Orders:MaxExpirationHours", "2")] // shorter than the configured application sub-order duration (3)
    [InlineData("Orders:ReminderDelayHours", "100001")]
    public void A_default_an_admin_could_not_save_stops_the_start(string key, string value)
    {
        factory.Settings[key] = value;
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(key.Split(':')[1], error.ToString());
        Assert.Contains("OptionsValidationException", error.ToString());
    }

    [Fact]
    public async Task A_save_on_another_instance_is_in_force_here_once_the_cache_lifetime_has_passed()
    {
        var clock = new ShiftedClock();
        factory.ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock);
        Assert.Equal(100, (await Settings.GetAsync()).SubOrderDurationHours);

        // Another instance: its own service (and cache) over the same database.
        var other = ActivatorUtilities.CreateInstance<PortalSettingsService>(factory.Services);
        await other.SaveAsync(Settings.Defaults with { SubOrderDurationHours = 7 }, DemoUsers.Admin);
        Assert.Equal(7, (await other.GetAsync()).SubOrderDurationHours);

        // Here the cached values hold for at most the cache lifetime (no change feed between instances).
        clock.Shift = PortalSettingsService.CacheLifetime + TimeSpan.FromSeconds(1);
        Assert.Equal(7, (await Settings.GetAsync()).SubOrderDurationHours);
    }

    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }

    private Task WaitForSavedAsync(int subOrderDurationHours, int maxExpirationHours) => WaitAsync(async () =>
    {
        await using var db = factory.CreateDbContext();
        return await db.PortalSettings.AnyAsync(r => r.SubOrderDurationHours == subOrderDurationHours && r.MaxExpirationHours == maxExpirationHours);
    }, 10, "the settings page did not save the values");

    /// <summary>Orders through the API until completed; the order's row and its number of internal sub-orders.</summary>
    private async Task<(Order Order, int SubOrders)> OrderUntilCompletedAsync(HttpClient client, string label)
    {
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_00" });
        var id = (await CreateOrderAsync(client, label)).Id();
        var completed = await WaitForOrderAsync(client, id, o => o.Status() != "PENDING");
        Assert.NotEqual("FAILED", completed.Status());
        await using var db = factory.CreateDbContext();
        return (await db.Orders.AsNoTracking().SingleAsync(o => o.Id == id), await db.SubOrders.CountAsync(s => s.OrderId == id && !s.External));
    }

    /// <summary>The expiration counts from the start of the completion: between the order's creation and its completion.</summary>
    private static void AssertLives(Order order, int hours)
    {
        var life = TimeSpan.FromHours(hours);
        Assert.InRange(order.ExpirationDate!.Value, order.CreationDate + life, order.CompletionDate!.Value + life);
    }
}
