using System.Globalization;
using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>My orders (/orders) over real orders in the test's database (engine off: statuses arranged by hand).</summary>
[Trait("Tier", "Fast")]
public sealed class MyOrdersComponentTests(OrderPagesFactory factory) : IClassFixture<OrderPagesFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>The row buttons of My orders (ui.md) and the statuses in which each is enabled (orders.md §3.3, two available files).</summary>
    public static TheoryData<OrderStatus, string[]> EnabledButtons => new()
    {
        { OrderStatus.Pending, ["order-pause", "order-cancel", "order-detail"] },
        { OrderStatus.Running, ["order-pause", "order-metalink", "order-metalink4", "order-script", "order-zip", "order-cancel", "order-detail"] },
        { OrderStatus.Paused, ["order-resume", "order-metalink", "order-metalink4", "order-script", "order-zip", "order-cancel", "order-detail"] },
        { OrderStatus.Done, ["order-metalink", "order-metalink4", "order-script", "order-zip", "order-restart", "order-cancel", "order-detail"] },
        { OrderStatus.DoneWithWarning, ["order-metalink", "order-metalink4", "order-script", "order-zip", "order-retry", "order-restart", "order-cancel", "order-detail"] },
        { OrderStatus.Failed, ["order-retry", "order-restart", "order-cancel", "order-detail"] },
        { OrderStatus.Expired, ["order-cancel", "order-detail"] },
        { OrderStatus.Error, ["order-cancel", "order-detail"] },
    };

    private static readonly string[] RowButtons =
        ["order-pause", "order-resume", "order-metalink", "order-metalink4", "order-script", "order-zip", "order-retry", "order-restart", "order-extend", "order-cancel", "order-remove", "order-detail"];

    [Theory]
    [MemberData(nameof(EnabledButtons))]
    public async Task Row_actions_are_enabled_exactly_when_the_state_machine_allows_them(OrderStatus status, string[] expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, status);
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        var row = page.WaitForElement("[data-testid=orders-table] tbody tr:has([data-testid=order-actions])", Wait);

        var enabled = RowButtons.Where(b => IsEnabled(row, b)).ToArray();
        Assert.Equal(expected, enabled);

        // The same answer from the state machine itself (the one table the services enforce).
        var allowed = OrderStateMachine.AllowedActions(order, callerIsAdmin: false);
        Assert.Equal(allowed.Contains(OrderAction.Pause), enabled.Contains("order-pause"));
        Assert.Equal(allowed.Contains(OrderAction.Resume), enabled.Contains("order-resume"));
        Assert.Equal(allowed.Contains(OrderAction.Metalink), enabled.Contains("order-metalink"));
        Assert.Equal(allowed.Contains(OrderAction.Metalink), enabled.Contains("order-metalink4"));
        // The download script lists the metalink's files: offered exactly when the metalink is.
        Assert.Equal(allowed.Contains(OrderAction.Metalink), enabled.Contains("order-script"));
        Assert.Equal(allowed.Contains(OrderAction.Download), enabled.Contains("order-zip"));
        Assert.Equal(allowed.Contains(OrderAction.Retry), enabled.Contains("order-retry"));
        Assert.Equal(allowed.Contains(OrderAction.Restart), enabled.Contains("order-restart"));
        Assert.Equal(OrderStateMachine.Allows(status, OrderAction.Cancel), enabled.Contains("order-cancel"));
        // Pause and resume are one toggle: never both.
        Assert.False(enabled.Contains("order-pause") && enabled.Contains("order-resume"));
        // Enabled links go to the API's endpoints of this order.
        if (enabled.Contains("order-zip"))
        {
            Assert.Equal($"/api/user/orders/{order.Id}/download", row.QuerySelector("[data-testid=order-zip]")!.GetAttribute("href"));
        }
        // Both documents, each link asking for 503 on files not restored yet (what download clients retry).
        if (enabled.Contains("order-metalink"))
        {
            Assert.Equal($"/api/user/orders/{order.Id}/metalink/download?notReady=503", row.QuerySelector("[data-testid=order-metalink]")!.GetAttribute("href"));
            Assert.Equal($"/api/user/orders/{order.Id}/metalink/download?format=v4&notReady=503", row.QuerySelector("[data-testid=order-metalink4]")!.GetAttribute("href"));
            Assert.Equal($"/api/user/orders/{order.Id}/script/download", row.QuerySelector("[data-testid=order-script]")!.GetAttribute("href"));
        }
    }

    [Fact]
    public async Task The_zip_is_disabled_when_the_only_available_files_are_external_links()
    {
        var owner = OrderPagesFactory.NewOwner();
        // Same progress computation as the engine: external quicklooks AVAILABLE, the raw files already downloaded.
        var linksOnly = await SeedDoneOrderAsync(owner, "links only", (OrderFileState.Available, StorageTier.External), (OrderFileState.Downloaded, StorageTier.Online));
        var withFile = await SeedDoneOrderAsync(owner, "one file to zip", (OrderFileState.Available, StorageTier.External), (OrderFileState.Available, StorageTier.Online));
        await using (var db = factory.CreateDbContext())
        {
            var counts = await db.Orders.Where(o => o.Owner == owner).ToDictionaryAsync(o => o.Id, o => (o.AvailableFilesCount, o.ZippableFilesCount));
            // availableFilesCount keeps its API meaning (every AVAILABLE file, links included).
            Assert.Equal((1, 0), counts[linksOnly]);
            Assert.Equal((2, 1), counts[withFile]);
        }

        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=order-actions]").Count), Wait);
        Assert.False(IsEnabled(Row(page, "links only"), "order-zip"));
        Assert.True(IsEnabled(Row(page, "links only"), "order-metalink"));
        Assert.True(IsEnabled(Row(page, "one file to zip"), "order-zip"));
    }

    [Fact]
    public async Task The_page_counts_the_orders_and_shows_progress_expiry_soon_and_waiting_user()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Running, o =>
        {
            o.Label = "soon and waiting"; o.ExpirationDate = DateTime.UtcNow.AddHours(12); o.WaitingForUser = true; o.PercentCompleted = 42;
        });
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = "later"; o.PercentCompleted = 100; });
        await factory.SeedOrderAsync(owner, OrderStatus.Deleted, o => o.Label = "cancelled one");
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=order-actions]").Count), Wait);

        // ui.md: "You have N order(s)", with the plural rule of the language; DELETED orders are not the user's any more.
        Assert.Equal("You have 2 orders", page.Find("[data-testid=orders-count]").TextContent.Trim());
        Assert.DoesNotContain("cancelled one", page.Markup);

        var soon = Row(page, "soon and waiting");
        var later = Row(page, "later");
        Assert.Equal("42", soon.QuerySelector("[data-testid=order-progress]")!.GetAttribute("data-value"));
        Assert.Contains("42 %", soon.QuerySelector("[data-testid=order-progress]")!.TextContent);
        // A clock when it expires within a day.
        Assert.NotNull(soon.QuerySelector("[data-testid=order-expires-soon]"));
        Assert.Null(later.QuerySelector("[data-testid=order-expires-soon]"));
        // Waiting for the user: the available-files badge pulses, the status says so.
        Assert.Contains("portal-pulse", soon.QuerySelector("[data-testid=order-available-badge]")!.ClassName);
        Assert.DoesNotContain("portal-pulse", later.QuerySelector("[data-testid=order-available-badge]")!.ClassName ?? "");
        Assert.NotNull(soon.QuerySelector("[data-testid=order-waiting-user]"));
        Assert.Null(later.QuerySelector("[data-testid=order-waiting-user]"));
    }

    [Fact]
    public async Task Order_changes_pushed_by_the_engine_show_without_a_reload()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Running, o => o.PercentCompleted = 10);
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        page.WaitForAssertion(() => Assert.Equal("RUNNING", page.Find("[data-testid=order-status]").GetAttribute("data-status")), Wait);

        // What the engine does at 100 %: the row changes, then the change is published.
        await using (var db = factory.CreateDbContext())
        {
            var row = await db.Orders.SingleAsync(o => o.Id == order.Id);
            row.ApplyProgress(new OrderFigures(Files: 4, Pending: 0, Available: 2, Zippable: 2, InError: 0, TotalBytes: 4096, DoneBytes: 4096), anySubOrderWaiting: true, DateTime.UtcNow);
            await db.SaveChangesAsync();
            factory.Services.GetRequiredService<OrderChangeNotifier>().Publish(row);
        }
        page.WaitForAssertion(() =>
        {
            Assert.Equal("DONE", page.Find("[data-testid=order-status]").GetAttribute("data-status"));
            Assert.Equal("100", page.Find("[data-testid=order-progress]").GetAttribute("data-value"));
        }, Wait);
        Assert.True(IsEnabled(page.Find("tbody tr:has([data-testid=order-actions])"), "order-restart"));
    }

    [Fact]
    public async Task A_pushed_change_updates_the_row_in_place_so_a_click_during_a_reload_is_not_lost()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Running, o => o.PercentCompleted = 10);
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        page.WaitForAssertion(() => Assert.Equal("10", page.Find("[data-testid=order-progress]").GetAttribute("data-value")), Wait);
        var actions = page.FindComponent<OrderActions>().Instance;

        await using (var db = factory.CreateDbContext())
        {
            var row = await db.Orders.SingleAsync(o => o.Id == order.Id);
            row.ApplyProgress(new OrderFigures(Files: 4, Pending: 2, Available: 2, Zippable: 2, InError: 0, TotalBytes: 100, DoneBytes: 60), anySubOrderWaiting: false, DateTime.UtcNow);
            await db.SaveChangesAsync();
            factory.Services.GetRequiredService<OrderChangeNotifier>().Publish(row);
        }
        page.WaitForAssertion(() => Assert.Equal("60", page.Find("[data-testid=order-progress]").GetAttribute("data-value")), Wait);
        // The same row components, given the new values: their buttons (and the clicks on them) survive the reload.
        Assert.Same(actions, page.FindComponent<OrderActions>().Instance);
    }

    [Fact]
    public async Task A_change_made_after_the_first_load_but_before_the_page_listens_still_shows()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Running, o => o.PercentCompleted = 10);
        await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
        // Going live, the page reads the remembered columns from the browser: that answer is held back.
        var columns = ctx.JSInterop.Setup<string?>("localStorage.getItem", _ => true);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForAssertion(() => Assert.Equal("RUNNING", page.Find("[data-testid=order-status]").GetAttribute("data-status")), Wait);

        // The engine finishes the order meanwhile; its notice went out before this page listened.
        await using (var db = factory.CreateDbContext())
        {
            var row = await db.Orders.SingleAsync(o => o.Id == order.Id);
            row.ApplyProgress(new OrderFigures(Files: 4, Pending: 0, Available: 2, Zippable: 2, InError: 0, TotalBytes: 4096, DoneBytes: 4096), anySubOrderWaiting: true, DateTime.UtcNow);
            await db.SaveChangesAsync();
        }
        await page.InvokeAsync(() => columns.SetResult(null));
        page.WaitForAssertion(() => Assert.Equal("DONE", page.Find("[data-testid=order-status]").GetAttribute("data-status")), Wait);
    }

    [Fact]
    public async Task Cancel_asks_for_confirmation_and_dismissing_changes_nothing()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Done, o => o.Label = "to cancel");
        await using var ctx = ComponentTestContext.CreateWithProviders(factory, out _, out var dialogs, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForElement("[data-testid=order-cancel]", Wait);

        // Dismissed: the order is untouched and stays listed.
        await page.InvokeAsync(() => page.Find("[data-testid=order-cancel]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("to cancel", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Cancel").Click());
        dialogs.WaitForAssertion(() => Assert.DoesNotContain("to cancel", dialogs.Markup), Wait);
        Assert.Equal(OrderStatus.Done, await StatusAsync(order.Id));
        Assert.Single(page.FindAll("[data-testid=order-actions]"));

        // Confirmed: the order is cancelled (DELETED) and leaves My orders.
        await page.InvokeAsync(() => page.Find("[data-testid=order-cancel]").Click());
        dialogs.WaitForAssertion(() => Assert.Contains("to cancel", dialogs.Markup), Wait);
        await dialogs.InvokeAsync(() => Button(dialogs, "Confirm").Click());
        await OrderTestKit.WaitAsync(async () => await StatusAsync(order.Id) == OrderStatus.Deleted, 10, "order not cancelled");
        page.WaitForAssertion(() => page.Find("[data-testid=orders-empty]"), Wait);
    }

    [Fact]
    public async Task Columns_follow_the_spec_and_the_chooser_hides_and_shows_them()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.FilesInErrorCount = 7; o.ObjectsCount = 3; });
        await using var ctx = ComponentTestContext.CreateWithProviders(factory, out var popovers, out _, owner, PortalRoles.RegisteredUser);
        var page = ctx.Render<MyOrdersPage>();
        page.WaitForElement("[data-testid=order-actions]", Wait);
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);

        // ui.md: Label; Status (+ progress); Creation; Expiration; Objects count; Total size; Errors count hidden by default.
        Assert.Equal(["Label", "Status", "Progress", "Created", "Expires", "Objects", "Size", "Actions"], Headers(page));
        Assert.Equal("3 objects – 4 files", page.Find("[data-testid=order-objects]").TextContent.Trim());
        Assert.Equal(Headers(page).Length, page.FindAll("[data-testid=orders-table] tbody tr:has([data-testid=order-actions]) td").Count);

        // Show the errors count, then hide the size.
        await page.InvokeAsync(() => page.Find("[data-testid=columns-chooser] button").Click());
        await ToggleAsync(popovers, OrderColumns.InError);
        page.WaitForAssertion(() => Assert.Contains("Errors count", Headers(page)), Wait);
        Assert.Contains(page.FindAll("[data-testid=orders-table] tbody td"), td => td.TextContent.Trim() == "7");
        await ToggleAsync(popovers, OrderColumns.Size);
        page.WaitForAssertion(() => Assert.DoesNotContain("Size", Headers(page)), Wait);
        Assert.Equal(["Label", "Status", "Progress", "Created", "Expires", "Objects", "Errors count", "Actions"], Headers(page));
    }

    [Fact]
    public async Task The_chosen_columns_are_remembered_per_user_in_protected_local_storage()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Done);
        string key, stored;
        await using (var ctx = ComponentTestContext.CreateWithProviders(factory, out var popovers, out _, owner, PortalRoles.RegisteredUser))
        {
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
            await page.InvokeAsync(() => page.Find("[data-testid=columns-chooser] button").Click());
            await ToggleAsync(popovers, OrderColumns.Progress);
            page.WaitForAssertion(() => Assert.DoesNotContain("Progress", Headers(page)), Wait);
            var saved = ctx.JSInterop.Invocations["localStorage.setItem"].Last();
            key = Assert.IsType<string>(saved.Arguments[0]);
            stored = Assert.IsType<string>(saved.Arguments[1]);
            Assert.Equal($"columns:orders:{owner}", key);
            // Protected (encrypted), not the column names in clear.
            Assert.DoesNotContain(OrderColumns.Label, stored);
        }

        // The next visit of the same user reads them back; another user keeps the defaults.
        await using (var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser))
        {
            ctx.JSInterop.Setup<string?>("localStorage.getItem", key).SetResult(stored);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal(["Label", "Status", "Created", "Expires", "Objects", "Size", "Actions"], Headers(page)), Wait);
        }
        var other = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(other, OrderStatus.Done);
        await using (var ctx = ComponentTestContext.Create(factory, other, PortalRoles.RegisteredUser))
        {
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
            Assert.Contains("Progress", Headers(page));
            Assert.DoesNotContain(ctx.JSInterop.Invocations["localStorage.getItem"], i => Equals(i.Arguments[0], key));
        }
    }

    [Fact]
    public async Task A_change_pushed_by_a_background_thread_renders_in_the_users_language()
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Running, o => o.PercentCompleted = 10);
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo("fr-FR");
        try
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
            Assert.Equal("Vous avez 1 commande", page.Find("[data-testid=orders-count]").TextContent.Trim());

            // The engine publishes from its own thread, which has no user's culture.
            await Task.Run(async () =>
            {
                CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
                await using var db = factory.CreateDbContext();
                var row = await db.Orders.SingleAsync(o => o.Id == order.Id);
                row.ApplyProgress(new OrderFigures(Files: 4, Pending: 0, Available: 2, Zippable: 2, InError: 0, TotalBytes: 4096, DoneBytes: 4096), anySubOrderWaiting: true, DateTime.UtcNow);
                await db.SaveChangesAsync();
                factory.Services.GetRequiredService<OrderChangeNotifier>().Publish(row);
            });
            page.WaitForAssertion(() => Assert.Equal("DONE", page.Find("[data-testid=order-status]").GetAttribute("data-status")), Wait);
            Assert.Equal("Vous avez 1 commande", page.Find("[data-testid=orders-count]").TextContent.Trim());
            Assert.Equal(["Libellé", "Statut", "Progression", "Création", "Expiration", "Objets", "Taille", "Actions"], Headers(page));
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, uiCulture);
        }
    }

    [Fact]
    public async Task In_french_the_page_uses_the_french_resources()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Paused);
        var (culture, uiCulture) = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo("fr-FR");
        try
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForElement("[data-testid=order-actions]", Wait);
            Assert.Equal(["Libellé", "Statut", "Progression", "Création", "Expiration", "Objets", "Taille", "Actions"], Headers(page));
            // orders.md §3.2: the French status label.
            Assert.Equal("En pause", page.Find("[data-testid=order-status]").TextContent.Trim());
            Assert.Equal("Colonnes", page.Find("[data-testid=columns-chooser] button").GetAttribute("aria-label"));
            Assert.Equal("Vous avez 1 commande", page.Find("[data-testid=orders-count]").TextContent.Trim());
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = (culture, uiCulture);
        }
    }

    [Theory]
    [InlineData("en-US", "the Metalink 3 file (.metalink) opens in the REGARDS Downloader", "the Metalink 4 file (.meta4) in aria2")]
    [InlineData("fr-FR", "le fichier Metalink 3 (.metalink) s'ouvre dans le REGARDS Downloader", "le fichier Metalink 4 (.meta4) dans aria2")]
    public async Task The_page_says_which_download_client_reads_which_metalink(string language, string v3, string v4)
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Done);
        var uiCulture = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = new CultureInfo(language);
        try
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForElement("[data-testid=order-actions]", Wait);
            var hint = page.Find("[data-testid=metalink-hint]").TextContent;
            Assert.Contains(v3, hint);
            Assert.Contains(v4, hint);
        }
        finally
        {
            CultureInfo.CurrentUICulture = uiCulture;
        }
    }

    /// <summary>orders.md §3.2: the UI label of each status, in English and in French.</summary>
    [Theory]
    [InlineData(OrderStatus.Pending, "pending", "en attente")]
    [InlineData(OrderStatus.Running, "running", "en cours")]
    [InlineData(OrderStatus.Paused, "pause", "en pause")]
    [InlineData(OrderStatus.Done, "done", "terminée")]
    [InlineData(OrderStatus.DoneWithWarning, "warning", "terminée avec avertissements")]
    [InlineData(OrderStatus.Failed, "failed", "échec")]
    [InlineData(OrderStatus.Expired, "expired", "expirée")]
    [InlineData(OrderStatus.Deleted, "removed", "supprimée")]
    [InlineData(OrderStatus.Error, "unknown", "inconnu")]
    public async Task The_status_chip_shows_the_label_of_the_spec_in_both_languages(OrderStatus status, string english, string french)
    {
        var uiCulture = CultureInfo.CurrentUICulture;
        try
        {
            foreach (var (language, expected) in new[] { ("en-US", english), ("fr-FR", french) })
            {
                CultureInfo.CurrentUICulture = new CultureInfo(language);
                await using var ctx = ComponentTestContext.Create(factory);
                var chip = ctx.Render<OrderStatusChip>(p => p.Add(c => c.Status, status));
                Assert.Equal(expected, chip.Find("[data-testid=order-status]").TextContent.Trim(), ignoreCase: true);
            }
        }
        finally
        {
            CultureInfo.CurrentUICulture = uiCulture;
        }
    }

    [Fact]
    public void Every_english_order_text_has_a_french_translation()
    {
        static Dictionary<string, string> Read(string file) => System.Xml.Linq.XDocument.Load(Path.Combine(SourceDir(), file)).Root!
            .Elements("data").ToDictionary(d => d.Attribute("name")!.Value, d => d.Element("value")!.Value);
        var english = Read("OrdersText.resx");
        var french = Read("OrdersText.fr.resx");
        Assert.Empty(english.Keys.Except(french.Keys));
        Assert.All(french, pair => Assert.False(string.IsNullOrWhiteSpace(pair.Value), pair.Key));
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private static string SourceDir()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "Regards.Portal", "Orders");
            if (File.Exists(Path.Combine(candidate, "OrdersText.resx")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("Regards.Portal/Orders not found above the test binaries.");
    }

    private async Task<long> SeedDoneOrderAsync(string owner, string label, params (OrderFileState State, StorageTier Tier)[] files)
    {
        var order = await factory.SeedOrderAsync(owner, OrderStatus.Done, o =>
        {
            o.Label = label;
            o.AvailableFilesCount = o.ZippableFilesCount = 0;
            o.DatasetTasks = [new DatasetTask { DatasetId = CatalogGenerator.SwotId, DatasetLabel = "SWOT", FilesCount = files.Length }];
        });
        await using (var db = factory.CreateDbContext())
        {
            var sub = new SubOrder { OrderId = order.Id, Owner = owner, DatasetTaskId = order.DatasetTasks[0].Id, Sequence = 1, JobState = SubOrderJobState.Staged };
            db.SubOrders.Add(sub);
            await db.SaveChangesAsync();
            db.OrderFiles.AddRange(files.Select((f, i) => new OrderFile
            {
                PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = sub.Id, DatasetTaskId = order.DatasetTasks[0].Id, DataObjectId = $"o{i}",
                ProviderId = $"P{i}", Name = $"f{i}", Size = 10, Tier = f.Tier, Location = f.Tier == StorageTier.External ? "https://example.org/q.png" : "x/f", State = f.State,
            }));
            await db.SaveChangesAsync();
        }
        await factory.Services.GetRequiredService<OrderProgress>().RecomputeAsync(order.Id);
        return order.Id;
    }

    private async Task<OrderStatus> StatusAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.Where(o => o.Id == orderId).Select(o => o.Status).SingleAsync();
    }

    internal static bool IsEnabled(IElement row, string testId) =>
        row.QuerySelector($"[data-testid={testId}]") is { } button && !button.HasAttribute("disabled");

    internal static IElement Row<T>(IRenderedComponent<T> page, string label) where T : Microsoft.AspNetCore.Components.IComponent =>
        page.FindAll("tbody tr").Single(r => r.QuerySelector("[data-testid=order-actions]") is not null && r.TextContent.Contains(label));

    internal static string[] Headers<T>(IRenderedComponent<T> page) where T : Microsoft.AspNetCore.Components.IComponent =>
        page.FindAll("thead th").Select(th => th.TextContent.Trim()).ToArray();

    internal static IElement Button<T>(IRenderedComponent<T> host, string text) where T : Microsoft.AspNetCore.Components.IComponent =>
        host.FindAll("button").Single(b => b.TextContent.Trim() == text);

    internal static async Task ToggleAsync(IRenderedComponent<MudBlazor.MudPopoverProvider> popovers, string column)
    {
        popovers.WaitForElement($"[data-testid=column-{column}]", Wait);
        await popovers.InvokeAsync(() =>
        {
            var element = popovers.Find($"[data-testid=column-{column}]");
            var input = element.TagName == "INPUT" ? element : element.QuerySelector("input")!;
            input.Change(!input.IsChecked());
        });
    }
}
