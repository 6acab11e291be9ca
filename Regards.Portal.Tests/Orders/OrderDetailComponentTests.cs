using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>The order detail page and the cart's Order dialog, over real rows (engine off).</summary>
[Trait("Tier", "Fast")]
public sealed class OrderDetailComponentTests(OrderPagesFactory factory) : IClassFixture<OrderPagesFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task The_detail_shows_breadcrumb_tasks_files_with_state_chips_and_sub_order_i_of_n()
    {
        var owner = OrderPagesFactory.NewOwner();
        var states = new[] { OrderFileState.Available, OrderFileState.Downloaded, OrderFileState.Pending, OrderFileState.DownloadError, OrderFileState.Error };
        var order = await factory.SeedOrderWithFilesAsync(owner, OrderStatus.Running, ["SWOT L2", "Sentinel-2 L1C"], subOrders: 2, states);
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<OrderDetailPage>(p => p.Add(x => x.OrderId, order.Id));
        page.WaitForAssertion(() => Assert.Equal(states.Length, page.FindAll("[data-testid=order-files] tbody tr").Count), Wait);

        // ui.md: Orders › order label › dataset.
        Assert.Equal(["My orders", order.Label, "SWOT L2"], Crumbs(page));
        Assert.Equal("/orders", page.Find("[data-testid=order-breadcrumb] a").GetAttribute("href"));

        // Dataset tasks: name, objects, files, size.
        var taskRows = page.FindAll("[data-testid=order-task]");
        Assert.Equal(2, taskRows.Count);
        Assert.Equal(["SWOT L2", "1", "5"], taskRows[0].QuerySelectorAll("td").Take(3).Select(td => td.TextContent.Trim()));
        Assert.Equal(["Sentinel-2 L1C", "2", "5"], taskRows[1].QuerySelectorAll("td").Take(3).Select(td => td.TextContent.Trim()));

        // Files: a state chip in the user's words, the sub-order out of the order's sub-orders, download only when servable.
        var rows = page.FindAll("[data-testid=order-files] tbody tr").OrderBy(r => r.TextContent).ToList();
        Assert.Equal(["Available", "Downloaded", "Being prepared", "Download incomplete", "Error"],
            rows.Select(r => r.QuerySelector("[data-testid=file-state]")!.TextContent.Trim()));
        Assert.Equal(["Sub-order 1 of 2", "Sub-order 2 of 2", "Sub-order 1 of 2", "Sub-order 2 of 2", "Sub-order 1 of 2"],
            rows.Select(r => r.QuerySelectorAll("td")[3].TextContent.Trim()));
        Assert.Equal([true, true, false, true, false], rows.Select(r => !r.QuerySelector("[data-testid=file-download]")!.HasAttribute("disabled")));

        // Another dataset task: its own files (none here), and the breadcrumb follows.
        await page.InvokeAsync(() => page.FindAll("[data-testid=order-task]")[1].Click());
        page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=file-state]")), Wait);
        Assert.Equal(["My orders", order.Label, "Sentinel-2 L1C"], Crumbs(page));
    }

    [Fact]
    public async Task Another_users_order_is_not_found()
    {
        var order = await factory.SeedOrderWithFilesAsync(OrderPagesFactory.NewOwner(), OrderStatus.Done, ["SWOT L2"], 1, OrderFileState.Available);
        await using var ctx = ComponentTestContext.Create(factory, OrderPagesFactory.NewOwner(), PortalRoles.RegisteredUser);
        var page = ctx.Render<OrderDetailPage>(p => p.Add(x => x.OrderId, order.Id));
        page.WaitForElement("[data-testid=order-not-found]", Wait);
        Assert.Empty(page.FindAll("[data-testid=order-summary]"));
        Assert.DoesNotContain(order.Label, page.Markup);
    }

    [Fact]
    public async Task The_order_dialog_counts_the_label_and_shows_server_errors_under_the_field()
    {
        var owner = OrderPagesFactory.NewOwner();
        var caller = new Caller(owner, false);
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => o.Label = "taken");
        await using var ctx = ComponentTestContext.CreateWithProviders(factory, out _, out var dialogs, owner, PortalRoles.RegisteredUser);
        var service = ctx.Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await dialogs.InvokeAsync(async () => reference = await service.ShowAsync<OrderDialog>("Order", new DialogParameters<OrderDialog> { { x => x.Caller, caller } }));
        dialogs.WaitForElement("[data-testid=order-confirm]", Wait);

        // The counter follows the label; over 50 characters the field is in error and Confirm is off.
        await dialogs.InvokeAsync(() => LabelInput(dialogs).Input("my label"));
        dialogs.WaitForAssertion(() => Assert.Contains("8 / 50", dialogs.Markup), Wait);
        Assert.False(dialogs.Find("[data-testid=order-confirm]").HasAttribute("disabled"));
        await dialogs.InvokeAsync(() => LabelInput(dialogs).Input(new string('x', 51)));
        dialogs.WaitForAssertion(() => Assert.Contains("51 / 50", dialogs.Markup), Wait);
        Assert.True(dialogs.Find("[data-testid=order-confirm]").HasAttribute("disabled"));
        Assert.Contains("The label is at most 50 characters", ErrorText(dialogs));

        // The server's refusals, under the field, the dialog staying open: empty cart, then a label already used.
        await dialogs.InvokeAsync(() => LabelInput(dialogs).Input("taken"));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=order-confirm]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("Your cart is empty", ErrorText(dialogs)), Wait);

        var baskets = factory.Services.GetRequiredService<BasketService>();
        await baskets.AddSelectionAsync(caller, new SelectionRequest { DatasetId = CatalogGenerator.SwotId });
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=order-confirm]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("You already have an order with this label", ErrorText(dialogs)), Wait);
        Assert.False(reference!.Result.IsCompleted);

        // A new label: the order is created and the dialog closes with it.
        await dialogs.InvokeAsync(() => LabelInput(dialogs).Input("fresh"));
        await dialogs.InvokeAsync(() => dialogs.Find("[data-testid=order-confirm]").Click());
        var result = await reference.Result.WaitAsync(Wait);
        Assert.False(result!.Canceled);
        Assert.Equal("fresh", Assert.IsType<OrderDto>(result.Data).Label);
        dialogs.WaitForAssertion(() => Assert.Empty(dialogs.FindAll("[data-testid=order-confirm]")), Wait);
    }

    private static string[] Crumbs(IRenderedComponent<OrderDetailPage> page) =>
        page.FindAll("[data-testid=order-breadcrumb] li.mud-breadcrumb-item").Select(li => li.TextContent.Trim()).ToArray();

    private static AngleSharp.Dom.IElement LabelInput(IRenderedComponent<MudDialogProvider> dialogs) =>
        dialogs.Find("input[data-testid=order-label], [data-testid=order-label] input");

    private static string ErrorText(IRenderedComponent<MudDialogProvider> dialogs) =>
        string.Join(" | ", dialogs.FindAll(".mud-input-error, .mud-input-helper-text.mud-input-error, .mud-input-control-helper-container").Select(e => e.TextContent));
}
