using Bunit;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.MyOrdersComponentTests;

namespace Regards.Portal.Tests.Orders;

/// <summary>Admin orders (/admin/orders) over real orders (engine off). Every test filters on its own owner, so the rows are its own.</summary>
[Trait("Tier", "Fast")]
public sealed class AdminOrdersComponentTests(OrderPagesFactory factory) : IClassFixture<OrderPagesFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private BunitContext AdminContext(out IRenderedComponent<MudPopoverProvider> popovers, out IRenderedComponent<MudDialogProvider> dialogs) =>
        ComponentTestContext.CreateWithProviders(factory, out popovers, out dialogs, DemoUsers.Admin, PortalRoles.Admin);

    private static string[] TableHeaders(IRenderedComponent<AdminOrdersPage> page) =>
        page.FindAll("[data-testid=admin-orders-table] thead th").Select(th => th.TextContent.Trim()).ToArray();

    private static async Task FilterOnOwnerAsync(IRenderedComponent<AdminOrdersPage> page, string owner)
    {
        await page.InvokeAsync(() => page.FindComponent<MudAutocomplete<string>>().Instance.ValueChanged.InvokeAsync(owner));
        await page.InvokeAsync(() => page.Find("[data-testid=admin-filter-apply]").Click());
    }

    private static IRenderedComponent<MudSelect<string>> WaitingSelect(IRenderedComponent<AdminOrdersPage> page) =>
        page.FindComponents<MudSelect<string>>().Single(c => c.Instance.UserAttributes.TryGetValue("data-testid", out var id) && Equals(id, "admin-filter-waiting"));

    private static string[] Labels(IRenderedComponent<AdminOrdersPage> page) =>
        page.FindAll("[data-testid=admin-orders-table] [data-testid=order-label-link]").Select(a => a.TextContent.Trim()).Order().ToArray();

    [Fact]
    public async Task Admin_columns_follow_the_spec_and_hidden_ones_can_be_shown()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Done, o => o.Label = "admin columns");
        await using var ctx = AdminContext(out var popovers, out _);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        await FilterOnOwnerAsync(page, owner);
        page.WaitForAssertion(() => Assert.Equal(["admin columns"], Labels(page)), Wait);

        // The admin guide: User, Label, Progress, Creation, Total size, Errors count, Status; Identifier, Expiration and
        // Objects count hidden by default.
        Assert.Equal(["User", "Label", "Progress", "Creation", "Total size", "Errors count", "Status", "Actions"], TableHeaders(page));
        Assert.Equal("1 order found", page.Find("[data-testid=admin-orders-count]").TextContent.Trim());
        Assert.Equal("Apply filters", page.Find("[data-testid=admin-filter-apply]").TextContent.Trim());
        Assert.Contains("Columns", page.Find("[data-testid=columns-chooser] button").TextContent);
        Assert.Contains(page.FindAll("[data-testid=admin-orders-table] tbody td"), td => td.TextContent.Trim() == owner);

        await page.InvokeAsync(() => page.Find("[data-testid=columns-chooser] button").Click());
        await ToggleAsync(popovers, OrderColumns.Id);
        page.WaitForAssertion(() => Assert.Equal(["User", "Label", "Progress", "Id", "Creation", "Total size", "Errors count", "Status", "Actions"], TableHeaders(page)), Wait);
        await ToggleAsync(popovers, OrderColumns.Expires);
        await ToggleAsync(popovers, OrderColumns.Objects);
        page.WaitForAssertion(() => Assert.Equal(["User", "Label", "Progress", "Id", "Creation", "Expiration", "Objects count", "Total size", "Errors count", "Status", "Actions"], TableHeaders(page)), Wait);
        Assert.Contains(page.FindAll("[data-testid=admin-orders-table] tbody td"), td => td.TextContent.Trim() == order.Id.ToString());
    }

    [Fact]
    public async Task Filters_become_the_search_request_shown_as_clearable_chips()
    {
        var owner = OrderPagesFactory.NewOwner();
        DateTime Day(int day, int hour = 10) => new(2026, 1, day, hour, 0, 0, DateTimeKind.Utc);
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "A done waiting"; o.CreationDate = Day(3); o.WaitingForUser = true; });
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "B done not waiting"; o.CreationDate = Day(3); });
        await factory.SeedOrderAsync(owner, OrderStatus.Running, o => { o.Label = "C running waiting"; o.CreationDate = Day(3); o.WaitingForUser = true; });
        await factory.SeedOrderAsync(owner, OrderStatus.Failed, o => { o.Label = "D failed too late"; o.CreationDate = Day(6, 1); o.WaitingForUser = true; });
        await factory.SeedOrderAsync(owner, OrderStatus.Failed, o => { o.Label = "E failed first day"; o.CreationDate = Day(2, 0); o.WaitingForUser = true; });
        await factory.SeedOrderAsync(owner, OrderStatus.Failed, o => { o.Label = "F failed too early"; o.CreationDate = Day(1, 23); o.WaitingForUser = true; });

        await using var ctx = AdminContext(out _, out _);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        Assert.Empty(page.FindAll("[data-testid=admin-filter-chip]"));
        Assert.Equal("/api/orders/csv", page.Find("[data-testid=admin-summary]").GetAttribute("href"));

        // The form: owner, statuses DONE + FAILED, created from Jan 2 to Jan 5 (whole days), waiting user: yes.
        await page.InvokeAsync(async () =>
        {
            await page.FindComponent<MudAutocomplete<string>>().Instance.ValueChanged.InvokeAsync(owner);
            await page.FindComponent<MudSelect<OrderStatus>>().Instance.SelectedValuesChanged.InvokeAsync([OrderStatus.Done, OrderStatus.Failed]);
            var dates = page.FindComponents<MudDatePicker>();
            await dates[0].Instance.DateChanged.InvokeAsync(new DateTime(2026, 1, 2));
            await dates[1].Instance.DateChanged.InvokeAsync(new DateTime(2026, 1, 5));
            await WaitingSelect(page).Instance.ValueChanged.InvokeAsync("yes");
        });
        // Nothing is searched before OK.
        Assert.Empty(page.FindAll("[data-testid=admin-filter-chip]"));
        await page.InvokeAsync(() => page.Find("[data-testid=admin-filter-apply]").Click());

        page.WaitForAssertion(() => Assert.Equal(["A done waiting", "E failed first day"], Labels(page)), Wait);
        // The request the page sends (the summary link carries the same filter as the search).
        var expected = new OrderSearchFilter
        {
            Owner = owner,
            Statuses = new StatusFilter([OrderStatus.Done, OrderStatus.Failed]),
            CreationDate = new Regards.Portal.Orders.DateRange(new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc), new DateTime(2026, 1, 5, 0, 0, 0, DateTimeKind.Utc).AddDays(1).AddTicks(-1)),
            WaitingForUser = true,
        };
        Assert.Equal("/api/orders/csv" + expected.ToQueryString(), page.Find("[data-testid=admin-summary]").GetAttribute("href"));
        Assert.Equal(
            [$"User: {owner}", "Statuses: Done, Failed", $"Created after: {new DateTime(2026, 1, 2):d}", $"Created before: {new DateTime(2026, 1, 5):d}", "Waiting user: Yes"],
            page.FindAll("[data-testid=admin-filter-chip]").Select(c => c.TextContent.Trim()));

        // Waiting user: no.
        await page.InvokeAsync(() => WaitingSelect(page).Instance.ValueChanged.InvokeAsync("no"));
        await page.InvokeAsync(() => page.Find("[data-testid=admin-filter-apply]").Click());
        page.WaitForAssertion(() => Assert.Equal(["B done not waiting"], Labels(page)), Wait);
        Assert.Contains("waitingForUser=false", page.Find("[data-testid=admin-summary]").GetAttribute("href"));

        // Closing a chip removes that criterion only and searches again.
        await page.InvokeAsync(() => page.FindAll("[data-testid=admin-filter-chip]").Single(c => c.TextContent.Contains("Waiting user")).QuerySelector("button, .mud-chip-close-button")!.Click());
        page.WaitForAssertion(() => Assert.Equal(["A done waiting", "B done not waiting", "E failed first day"], Labels(page)), Wait);
        Assert.Equal(4, page.FindAll("[data-testid=admin-filter-chip]").Count);
        Assert.DoesNotContain("waitingForUser", page.Find("[data-testid=admin-summary]").GetAttribute("href"));
        await page.InvokeAsync(() => page.FindAll("[data-testid=admin-filter-chip]").Single(c => c.TextContent.Contains("Statuses")).QuerySelector("button, .mud-chip-close-button")!.Click());
        page.WaitForAssertion(() => Assert.Equal(["A done waiting", "B done not waiting", "C running waiting", "E failed first day"], Labels(page)), Wait);

        // Clear: no chip, no filter.
        await page.InvokeAsync(() => page.Find("[data-testid=admin-filter-clear]").Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=admin-filter-chip]")), Wait);
        Assert.Equal("/api/orders/csv", page.Find("[data-testid=admin-summary]").GetAttribute("href"));
        Assert.Empty(page.FindAll("[data-testid=admin-filter-clear]"));
    }

    /// <summary>
    /// Issue 17, item 6: the creation dates are typed in the user's own short date format, and the filter's chips show
    /// them in that format.
    /// </summary>
    [Theory]
    [InlineData("en", "1/2/2026", "1/5/2026", "Created after: 1/2/2026", "Created before: 1/5/2026")]
    [InlineData("fr", "02/01/2026", "05/01/2026", "Créée après : 02/01/2026", "Créée avant : 05/01/2026")]
    public async Task Creation_dates_can_be_typed_in_the_users_format(string language, string after, string before, string afterChip, string beforeChip)
    {
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = AdminContext(out _, out _);
            var page = ctx.Render<AdminOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
            var pickers = page.FindComponents<MudDatePicker>();
            Assert.All(pickers, p => Assert.False(p.Find("input").HasAttribute("readonly"), "a date filter that cannot be typed"));
            await page.InvokeAsync(() => pickers[0].Find("input").Change(after));
            await page.InvokeAsync(() => pickers[1].Find("input").Change(before));
            await page.InvokeAsync(() => page.Find("[data-testid=admin-filter-apply]").Click());
            page.WaitForAssertion(() =>
            {
                var chips = page.FindAll("[data-testid=admin-filter-chip]").Select(c => c.TextContent.Trim()).ToList();
                Assert.Equal([afterChip, beforeChip], chips);
            }, Wait);
        });
    }

    [Fact]
    public async Task Clicking_a_column_header_sorts_on_the_server()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "b order"; o.TotalSize = 1; o.CreationDate = DateTime.UtcNow.AddDays(-1); });
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "c order"; o.TotalSize = 3; o.CreationDate = DateTime.UtcNow.AddDays(-3); });
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "a order"; o.TotalSize = 2; o.CreationDate = DateTime.UtcNow.AddDays(-2); });
        await using var ctx = AdminContext(out _, out _);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        await FilterOnOwnerAsync(page, owner);
        string[] Rows() => page.FindAll("[data-testid=admin-orders-table] [data-testid=order-label-link]").Select(a => a.TextContent.Trim()).ToArray();
        // Newest first by default.
        page.WaitForAssertion(() => Assert.Equal(["b order", "a order", "c order"], Rows()), Wait);

        async Task SortOnAsync(string header) => await page.InvokeAsync(() =>
            page.FindAll("[data-testid=admin-orders-table] thead th").Single(th => th.TextContent.Trim() == header).QuerySelector(".mud-table-sort-label")!.Click());
        await SortOnAsync("Label");
        page.WaitForAssertion(() => Assert.Equal(["a order", "b order", "c order"], Rows()), Wait);
        await SortOnAsync("Label");
        page.WaitForAssertion(() => Assert.Equal(["c order", "b order", "a order"], Rows()), Wait);
        await SortOnAsync("Total size");
        page.WaitForAssertion(() => Assert.Equal(["b order", "a order", "c order"], Rows()), Wait);
    }

    /// <summary>The admin's row actions: extend expiry for live orders, remove only for DELETED ones.</summary>
    public static TheoryData<OrderStatus, string[]> AdminButtons => new()
    {
        { OrderStatus.Running, ["order-pause", "order-metalink", "order-metalink4", "order-zip", "order-extend", "order-cancel", "order-detail"] },
        { OrderStatus.Done, ["order-metalink", "order-metalink4", "order-zip", "order-restart", "order-extend", "order-cancel", "order-detail"] },
        { OrderStatus.Expired, ["order-cancel", "order-detail"] },
        { OrderStatus.Deleted, ["order-remove", "order-detail"] },
    };

    private static readonly string[] RowButtons =
        ["order-pause", "order-resume", "order-metalink", "order-metalink4", "order-zip", "order-retry", "order-restart", "order-extend", "order-cancel", "order-remove", "order-detail"];

    [Theory]
    [MemberData(nameof(AdminButtons))]
    public async Task Admin_row_actions_follow_the_state_machine(OrderStatus status, string[] expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, status);
        await using var ctx = AdminContext(out _, out _);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        await FilterOnOwnerAsync(page, owner);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=admin-orders-table] [data-testid=order-actions]")), Wait);
        var row = page.Find("[data-testid=admin-orders-table] tbody tr:has([data-testid=order-actions])");
        Assert.Equal(expected, RowButtons.Where(b => IsEnabled(row, b)).ToArray());
    }

    /// <summary>The admin list's zip button tells what the zip holds in the words of My orders' (files, objects, size).</summary>
    [Theory]
    [InlineData("en", "Zip of the available files: 2 files of 2 objects (201\u00a0B)")]
    [InlineData("fr", "Zip des fichiers disponibles : 2 fichiers de 2 objets (201\u00a0o)")]
    public async Task The_zip_button_tells_the_admin_what_My_orders_tells_its_user(string language, string expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        // Two available files (100 and 101 bytes) of two objects, one still pending.
        var order = await factory.SeedOrderWithFilesAsync(owner, OrderStatus.Running, ["SWOT"], 1,
            OrderFileState.Available, OrderFileState.Available, OrderFileState.Pending);
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = AdminContext(out _, out _);
            var page = ctx.Render<AdminOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
            await FilterOnOwnerAsync(page, owner);
            page.WaitForAssertion(() => Assert.Equal(expected, Row(page, order.Label).QuerySelector("[data-testid=order-zip]")!.GetAttribute("aria-label")), Wait);

            await using var userCtx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var mine = userCtx.Render<MyOrdersPage>();
            mine.WaitForAssertion(() => Assert.Equal(expected, Row(mine, order.Label).QuerySelector("[data-testid=order-zip]")!.GetAttribute("aria-label")), Wait);
        });
    }

    [Fact]
    public async Task Remove_is_only_for_deleted_orders_and_asks_for_confirmation()
    {
        var owner = OrderPagesFactory.NewOwner();
        var deleted = await factory.SeedOrderAsync(owner, OrderStatus.Deleted, o => o.Label = "gone soon");
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => o.Label = "still done");
        await using var ctx = AdminContext(out _, out var dialogs);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        await FilterOnOwnerAsync(page, owner);
        page.WaitForAssertion(() => Assert.Equal(["gone soon", "still done"], Labels(page)), Wait);
        Assert.Single(page.FindAll("[data-testid=order-remove]"));
        Assert.Null(Row(page, "still done").QuerySelector("[data-testid=order-remove]"));

        // Dismissed: the row stays.
        await page.InvokeAsync(() => Row(page, "gone soon").QuerySelector("[data-testid=order-remove]")!.Click());
        dialogs.WaitForAssertion(() => Assert.Contains("gone soon", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Cancel").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("gone soon", dialogs.Markup), Wait);
        Assert.True(await ExistsAsync(deleted.Id));

        // Confirmed: the order is gone for good.
        await page.InvokeAsync(() => Row(page, "gone soon").QuerySelector("[data-testid=order-remove]")!.Click());
        dialogs.WaitForAssertion(() => Assert.Contains("gone soon", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Confirm").Click());
        page.WaitForAssertion(() => Assert.Equal(["still done"], Labels(page)), Wait);
        Assert.False(await ExistsAsync(deleted.Id));
    }

    [Fact]
    public async Task Cancelling_an_order_from_the_admin_page_asks_for_confirmation()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Paused, o => o.Label = "admin cancels");
        await using var ctx = AdminContext(out _, out var dialogs);
        var page = ctx.Render<AdminOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        await FilterOnOwnerAsync(page, owner);
        page.WaitForElement("[data-testid=admin-orders-table] [data-testid=order-cancel]", Wait);

        await page.InvokeAsync(() => page.Find("[data-testid=order-cancel]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("admin cancels", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Cancel").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("admin cancels", dialogs.Markup), Wait);
        Assert.Equal(OrderStatus.Paused, await StatusAsync(order.Id));

        await page.InvokeAsync(() => page.Find("[data-testid=order-cancel]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("admin cancels", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Confirm").Click());
        // The admin still sees the DELETED order, now with remove instead of cancel.
        page.WaitForAssertion(() => page.Find("[data-testid=admin-orders-table] [data-testid=order-remove]"), Wait);
        Assert.Empty(page.FindAll("[data-testid=order-cancel]"));
        Assert.Equal(OrderStatus.Deleted, await StatusAsync(order.Id));
    }

    private async Task<bool> ExistsAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.AnyAsync(o => o.Id == orderId);
    }

    private async Task<OrderStatus> StatusAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.Where(o => o.Id == orderId).Select(o => o.Status).SingleAsync();
    }
}
