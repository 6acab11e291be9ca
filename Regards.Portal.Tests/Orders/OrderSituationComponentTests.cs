using System.Globalization;
using AngleSharp.Dom;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>
/// The order life cycle in plain words (issue 17, item 2) on My orders and the detail page, in English and French: the
/// situation the Orders feature computes from the sub-orders, their files and the owner's preparation slots, and its
/// translation with the plural rules of each language. Engine off: every state is arranged in the database. The
/// situation's queries (<see cref="OrderSituations"/>: grouped sums, distinct object counts, the slot holders' join)
/// run on a real SQLite file and on PostgreSQL.
/// </summary>
public abstract class OrderSituationComponentTests(OrderPagesFactory factory)
{
    [Trait("Tier", "Fast")]
    public sealed class OnSqlite(OrderPagesFactory factory) : OrderSituationComponentTests(factory), IClassFixture<OrderPagesFactory>;

    public sealed class OnPostgreSql(OrderPagesFactory.OnPostgreSql factory) : OrderSituationComponentTests(factory), IClassFixture<OrderPagesFactory.OnPostgreSql>;

    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    /// <summary>One part of a seeded order: its job state and its files (state, tier, size).</summary>
    private sealed record Part(SubOrderJobState State, params (OrderFileState State, StorageTier Tier, long Size)[] Files);

    [Theory]
    [InlineData("en", "Queued: your 2 preparation slots are used by order “{0}”", "Parts 1 and 2 ready: download them (3 files, 3\u00a0KB) to continue")]
    [InlineData("fr", "En file d'attente : vos 2 emplacements de préparation sont occupés par la commande « {0} »", "Parties 1 et 2 prêtes : téléchargez-les (3 fichiers, 3\u00a0Ko) pour continuer")]
    public async Task An_order_queued_behind_another_says_which_order_holds_the_slots_and_the_other_what_to_download(string language, string queued, string waiting)
    {
        var owner = OrderPagesFactory.NewOwner();
        // The holder: parts 1 and 2 prepared and waiting for the user (the two slots), part 3 queued behind them.
        var holder = await SeedAsync(owner, "holder", OrderStatus.Running,
            new Part(SubOrderJobState.Staged, (OrderFileState.Available, StorageTier.Nearline, 1024), (OrderFileState.Available, StorageTier.Nearline, 1024)),
            new Part(SubOrderJobState.Staged, (OrderFileState.Available, StorageTier.Online, 1024), (OrderFileState.Downloaded, StorageTier.Online, 1024)),
            new Part(SubOrderJobState.Queued, (OrderFileState.Pending, StorageTier.Nearline, 1024)));
        var behind = await SeedAsync(owner, "behind", OrderStatus.Running, new Part(SubOrderJobState.Queued, (OrderFileState.Pending, StorageTier.Nearline, 1024)));

        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=order-situation]").Count), Wait);
            page.Render();
            Assert.Equal(string.Format(queued, holder.Label), Situation(page, behind.Label));
            Assert.Equal("QueuedBehindOtherOrders", RowOf(page, behind.Label).QuerySelector("[data-testid=order-situation]")!.GetAttribute("data-kind"));
            Assert.Equal(waiting, Situation(page, holder.Label));
        });
    }

    [Theory]
    [InlineData("en", 1, "Part 2 ready: download it (1 file, 100\u00a0B) to continue")]
    [InlineData("en", 2, "Part 2 ready: download it (2 files, 200\u00a0B) to continue")]
    [InlineData("fr", 1, "Partie 2 prête : téléchargez-la (1 fichier, 100\u00a0o) pour continuer")]
    [InlineData("fr", 2, "Partie 2 prête : téléchargez-la (2 fichiers, 200\u00a0o) pour continuer")]
    public async Task A_part_waiting_for_its_user_says_which_one_and_how_much_with_the_plural_rule_of_the_language(string language, int files, string expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        var waitingFiles = Enumerable.Repeat((OrderFileState.Available, StorageTier.Online, 100L), files).ToArray();
        var order = await SeedAsync(owner, "waiting", OrderStatus.Running,
            new Part(SubOrderJobState.Ended, (OrderFileState.Downloaded, StorageTier.Online, 100)),
            new Part(SubOrderJobState.Staged, waitingFiles),
            new Part(SubOrderJobState.Queued, (OrderFileState.Pending, StorageTier.Nearline, 100)));
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=order-situation]")), Wait);
            page.Render();
            Assert.Equal(expected, Situation(page, order.Label));
        });
    }

    [Theory]
    [InlineData("en", StorageTier.Nearline, "Preparing part 3 of 4 from tape")]
    [InlineData("fr", StorageTier.Nearline, "Préparation de la partie 3 sur 4 depuis la bande")]
    [InlineData("en", StorageTier.Online, "Preparing part 3 of 4")]
    [InlineData("fr", StorageTier.Online, "Préparation de la partie 3 sur 4")]
    public async Task A_part_being_prepared_says_which_and_whether_it_comes_from_tape(string language, StorageTier tier, string expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await SeedAsync(owner, "staging", OrderStatus.Running,
            new Part(SubOrderJobState.Ended, (OrderFileState.Downloaded, tier, 100)),
            new Part(SubOrderJobState.Ended, (OrderFileState.Downloaded, tier, 100)),
            new Part(SubOrderJobState.Staging, (OrderFileState.Pending, tier, 100)),
            new Part(SubOrderJobState.Queued, (OrderFileState.Pending, tier, 100)));
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<OrderDetailPage>(p => p.Add(x => x.OrderId, order.Id));
            page.WaitForAssertion(() => Assert.Equal(expected, page.Find("[data-testid=order-situation]").TextContent.Trim()), Wait);
        });
    }

    /// <summary>A paused order names the part that resuming prepares first: the database's suspended parts, read by the page.</summary>
    [Theory]
    [InlineData("en", "Paused before part 3 of 5: resume the order to go on preparing its files")]
    [InlineData("fr", "En pause avant la partie 3 sur 5 : reprenez la commande pour poursuivre la préparation de ses fichiers")]
    public async Task A_paused_order_says_which_part_comes_next(string language, string expected)
    {
        var owner = OrderPagesFactory.NewOwner();
        var order = await SeedAsync(owner, "paused", OrderStatus.Paused,
            new Part(SubOrderJobState.Ended, (OrderFileState.Downloaded, StorageTier.Online, 100)),
            new Part(SubOrderJobState.Staged, (OrderFileState.Available, StorageTier.Online, 100)),
            new Part(SubOrderJobState.Suspended, (OrderFileState.Pending, StorageTier.Nearline, 100)),
            new Part(SubOrderJobState.Suspended, (OrderFileState.Pending, StorageTier.Nearline, 100)),
            new Part(SubOrderJobState.Suspended, (OrderFileState.Pending, StorageTier.Nearline, 100)));
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<OrderDetailPage>(p => p.Add(x => x.OrderId, order.Id));
            page.WaitForAssertion(() => Assert.Equal(expected, page.Find("[data-testid=order-situation]").TextContent.Trim()), Wait);
        });
    }

    /// <summary>Relative expiry from the injected clock (a <see cref="FakeTimeProvider"/>), in the user's time zone.</summary>
    [Theory]
    [InlineData("en", @"^Expires today at 11:00\sPM$", "Expires tomorrow", "Expires in 3 days")]
    [InlineData("fr", "^Expire aujourd'hui à 23:00$", "Expire demain", "Expire dans 3 jours")]
    public async Task Expiry_is_told_relative_to_the_injected_clock(string language, string today, string tomorrow, string inThreeDays)
    {
        var now = new DateTimeOffset(2031, 3, 10, 10, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(now);
        clock.SetLocalTimeZone(TimeZoneInfo.Utc);
        var owner = OrderPagesFactory.NewOwner();
        var expiring = new Dictionary<string, DateTime>
        {
            ["today"] = now.UtcDateTime.AddHours(13),
            ["tomorrow"] = now.UtcDateTime.AddHours(23),
            ["in3days"] = now.UtcDateTime.AddDays(3).AddHours(-2),
            ["later"] = now.UtcDateTime.AddDays(10),
        };
        foreach (var (label, expiration) in expiring)
        {
            await factory.SeedOrderAsync(owner, OrderStatus.Done, o => { o.Label = label; o.ExpirationDate = expiration; o.PercentCompleted = 100; o.AvailableFilesCount = o.ZippableFilesCount = 0; });
        }
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.CreateWith(factory, services =>
            {
                services.AddSingleton<TimeProvider>(clock);
                services.AddSingleton(new OrderSituations(factory.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>(),
                    factory.Services.GetRequiredService<IOptions<OrdersOptions>>(), clock));
            }, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal(4, page.FindAll("[data-testid=order-situation]").Count), Wait);
            page.Render();
            string? Expiry(string label) => RowOf(page, label).QuerySelector("[data-testid=order-expiry-relative]")?.TextContent.Trim();
            // The time of day in the culture's format (ICU puts a narrow no-break space before "PM").
            Assert.Matches(today, Expiry("today"));
            Assert.Equal(tomorrow, Expiry("tomorrow"));
            Assert.Equal(inThreeDays, Expiry("in3days"));
            Assert.Null(Expiry("later"));
        });
    }

    /// <summary>ui.md and the REGARDS user guide: the zip button tells what it holds (available files that are not links, and their objects).</summary>
    [Theory]
    [InlineData("en", "Zip of the available files: 3 files of 2 objects (300\u00a0B)", "Done: every file was downloaded (you may download them again until the order expires)")]
    [InlineData("fr", "Zip des fichiers disponibles : 3 fichiers de 2 objets (300\u00a0o)", "Terminée : tous les fichiers ont été téléchargés (vous pouvez les retélécharger jusqu'à l'expiration)")]
    public async Task The_zip_button_says_how_many_files_and_objects_it_holds(string language, string zip, string allDownloaded)
    {
        var owner = OrderPagesFactory.NewOwner();
        var ready = await SeedAsync(owner, "ready", OrderStatus.Done, [new Part(SubOrderJobState.Staged,
            (OrderFileState.Available, StorageTier.Online, 100), (OrderFileState.Available, StorageTier.Online, 100),
            (OrderFileState.Available, StorageTier.Nearline, 100), (OrderFileState.Available, StorageTier.External, 100))], objectOf: i => $"obj-{Math.Min(i, 1)}");
        var over = await SeedAsync(owner, "over", OrderStatus.Done, new Part(SubOrderJobState.Ended, (OrderFileState.Downloaded, StorageTier.Online, 100)));
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=order-situation]").Count), Wait);
            page.Render();
            Assert.Equal(zip, RowOf(page, ready.Label).QuerySelector("[data-testid=order-zip]")!.GetAttribute("aria-label"));
            Assert.Equal(allDownloaded, Situation(page, over.Label));
            // Four files to download (the external link included), the size of the three the zip holds.
            Assert.StartsWith(language == "fr" ? "Prête : téléchargez les fichiers (4 fichiers, 300\u00a0o)" : "Ready: download the files (4 files, 300\u00a0B)", Situation(page, ready.Label));
        });
    }

    /// <summary>Past <see cref="OrderSituations.ZipCountedFiles"/> available files, a render counts nothing: the button tells the order's own count.</summary>
    [Theory]
    [InlineData("en", "Zip of the available files: 20,000 files")]
    [InlineData("fr", "Zip des fichiers disponibles : 20\u202f000 fichiers")]
    public async Task The_zip_button_of_a_very_large_order_tells_its_files_without_counting_them(string language, string zip)
    {
        var owner = OrderPagesFactory.NewOwner();
        var large = await SeedAsync(owner, "large", OrderStatus.Done, [new Part(SubOrderJobState.Staged, (OrderFileState.Available, StorageTier.Online, 100))]);
        await using (var db = factory.CreateDbContext())
        {
            await db.Orders.Where(o => o.Id == large.Id).ExecuteUpdateAsync(u => u.SetProperty(o => o.AvailableFilesCount, 20_000));
        }
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=order-situation]")), Wait);
            page.Render();
            Assert.Equal(zip, RowOf(page, large.Label).QuerySelector("[data-testid=order-zip]")!.GetAttribute("aria-label"));
        });
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private static IElement RowOf<T>(IRenderedComponent<T> page, string label) where T : Microsoft.AspNetCore.Components.IComponent =>
        page.FindAll("tbody tr").Single(r => r.QuerySelector("[data-testid=order-label-link]")?.TextContent.Trim() == label);

    private static string Situation<T>(IRenderedComponent<T> page, string label) where T : Microsoft.AspNetCore.Components.IComponent =>
        RowOf(page, label).QuerySelector("[data-testid=order-situation]")!.TextContent.Trim();

    /// <summary>An order of the owner with these parts and files, its figures recomputed as the engine does.</summary>
    private async Task<Order> SeedAsync(string owner, string label, OrderStatus status, Part first, params Part[] rest) =>
        await SeedAsync(owner, label, status, [first, .. rest]);

    private async Task<Order> SeedAsync(string owner, string label, OrderStatus status, Part[] parts, Func<int, string>? objectOf = null)
    {
        var all = parts.SelectMany(p => p.Files).ToList();
        var order = await factory.SeedOrderAsync(owner, status, o =>
        {
            o.Label = label;
            o.FilesCount = all.Count;
            o.DatasetTasks = [new DatasetTask { DatasetId = CatalogGenerator.SwotId, DatasetLabel = "SWOT", FilesCount = all.Count }];
        });
        await using (var db = factory.CreateDbContext())
        {
            var subs = parts.Select((p, i) => new SubOrder
            {
                OrderId = order.Id, Owner = owner, DatasetTaskId = order.DatasetTasks[0].Id, Sequence = i + 1, JobState = p.State, Ended = p.State == SubOrderJobState.Ended,
                QueuedAt = DateTime.UtcNow, LeaseOwner = p.State == SubOrderJobState.Staging ? "test" : null,
                LeaseExpiresAt = p.State == SubOrderJobState.Staging ? DateTime.UtcNow.AddHours(1) : null,
            }).ToList();
            db.SubOrders.AddRange(subs);
            await db.SaveChangesAsync();
            var n = 0;
            foreach (var (part, sub) in parts.Zip(subs))
            {
                foreach (var f in part.Files)
                {
                    var i = n++;
                    db.OrderFiles.Add(new OrderFile
                    {
                        PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = sub.Id, DatasetTaskId = order.DatasetTasks[0].Id,
                        DataObjectId = objectOf?.Invoke(i) ?? $"obj-{i}", ProviderId = $"P{i}", Name = $"f{i}.nc", Size = f.Size, Tier = f.Tier,
                        Location = f.Tier == StorageTier.External ? "https://example.org/q.png" : "x/f", State = f.State,
                    });
                }
            }
            await db.SaveChangesAsync();
        }
        // The engine's own computation: progress, available counts and the sub-orders' waiting flags.
        return (await factory.Services.GetRequiredService<OrderProgress>().RecomputeAsync(order.Id))!;
    }
}
