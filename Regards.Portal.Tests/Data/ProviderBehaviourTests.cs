using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Data;

/// <summary>
/// Where SQL dialects differ, the portal answers the same on each provider: text comparison, case in searches, sort
/// order of text, dates grouped by day. The PostgreSQL cluster of the tests sorts text linguistically by default (ICU),
/// as production servers do, so a column left to the server's collation shows here.
/// </summary>
public abstract class ProviderBehaviourTests
{
    public sealed class OnSqlite(PortalAppFactory factory) : ProviderBehaviourTests(factory), IClassFixture<PortalAppFactory>;

    public sealed class OnPostgreSql(PostgreSqlFactory factory) : ProviderBehaviourTests(factory), IClassFixture<PostgreSqlFactory>;

    private static readonly Caller Admin = new(DemoUsers.Admin, IsAdmin: true);
    private readonly PortalAppFactory factory;

    protected ProviderBehaviourTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.Settings["Orders:EngineEnabled"] = "false";
    }

    private async Task<List<string>> OrdersOfAsync(string owner, params string[] labels)
    {
        factory.CreateAnonymousClient();
        var now = DateTime.UtcNow;
        await using var db = factory.CreateDbContext();
        foreach (var label in labels)
        {
            db.Orders.Add(new Order { Owner = owner, Label = label, CreationDate = now, Status = OrderStatus.Paused, StatusDate = now });
        }
        await db.SaveChangesAsync();
        return [.. labels];
    }

    private async Task<int> SearchCountAsync(string q)
    {
        await using var db = factory.CreateDbContext();
        var datasets = await db.Datasets.Select(d => d.Id).ToListAsync();
        return await db.DataObjects.Matching(new SelectionRequest { Q = q }, datasets).CountAsync();
    }

    [Fact]
    public async Task The_catalog_search_ignores_the_case_of_ASCII_letters_and_matches_other_letters_as_typed()
    {
        factory.CreateAnonymousClient();
        var exact = await SearchCountAsync("SWOT calibration note");
        Assert.True(exact > 0, "the demo catalog has SWOT calibration notes");
        Assert.Equal(exact, await SearchCountAsync("swot CALIBRATION Note"));
        Assert.Equal(0, await SearchCountAsync("swot calibration note_"));

        await using (var db = factory.CreateDbContext())
        {
            var dataset = await db.Datasets.Select(d => d.Id).FirstAsync();
            db.DataObjects.Add(new DataObject
            {
                Id = "URN:provider-test:ile", ProviderId = "ÎLE_D_OLÉRON_1", Label = "Île d'Oléron 50%", DatasetId = dataset,
                AcquisitionDate = new DateTime(2024, 5, 1, 0, 0, 0, DateTimeKind.Utc),
            });
            await db.SaveChangesAsync();
        }
        Assert.Equal(1, await SearchCountAsync("Île D'OLéRON"));
        Assert.Equal(1, await SearchCountAsync("50%"));
        Assert.Equal(1, await SearchCountAsync("Île_d_oLÉRON"));
        Assert.Equal(0, await SearchCountAsync("ÎLE D'OLÉRON 5")); // é is not É on any provider (SQLite folds ASCII only)
        Assert.Equal(0, await SearchCountAsync("île"));
    }

    [Fact]
    public async Task The_owner_autocomplete_ignores_case_and_matches_within_the_address()
    {
        await OrdersOfAsync("Mixed.Case@Example.org", "autocomplete");
        var orders = factory.Services.GetRequiredService<OrderService>();
        Assert.Contains("Mixed.Case@Example.org", await orders.SearchOwnersAsync(Admin, "mixed.case@EXAMPLE"));
        Assert.Contains("Mixed.Case@Example.org", await orders.SearchOwnersAsync(Admin, "CASE@"));
        Assert.DoesNotContain("Mixed.Case@Example.org", await orders.SearchOwnersAsync(Admin, "mixed_case"));
    }

    [Fact]
    public async Task Text_sorts_in_byte_order_and_compares_exactly_on_every_provider()
    {
        const string owner = "sorting@regards.local";
        var labels = await OrdersOfAsync(owner, "apple", "Banana", "_under", "zebra", "Zebra", "éclair", "Eclair", "10", "9");
        var orders = factory.Services.GetRequiredService<OrderService>();
        var page = await orders.SearchAsync(Admin, new OrderSearchFilter { Owner = owner }, new PageRequest(0, 100), "label,asc");
        Assert.Equal(labels.Order(StringComparer.Ordinal), page.Content.Select(o => o.Label));

        // An owner is the address as written: another case is another owner, as SQLite has always compared it.
        Assert.Empty((await orders.SearchAsync(Admin, new OrderSearchFilter { Owner = owner.ToUpperInvariant() }, new PageRequest(0, 100), null)).Content);
    }

    [Fact]
    public async Task The_longest_label_the_settings_allow_fits_the_label_column()
    {
        var allowed = Convert.ToInt32(typeof(OrdersOptions).GetProperty(nameof(OrdersOptions.LabelMaxLength))!
            .GetCustomAttributes(typeof(System.ComponentModel.DataAnnotations.RangeAttribute), false).Cast<System.ComponentModel.DataAnnotations.RangeAttribute>().Single().Maximum,
            System.Globalization.CultureInfo.InvariantCulture);
        var label = new string('x', allowed);
        // Stored as is (SQLite would store any length: a server with the column's limit refuses a longer one).
        Assert.Equal([label], await OrdersOfAsync("long-labels@regards.local", label));
        await using var db = factory.CreateDbContext();
        Assert.Equal(label, await db.Orders.Where(o => o.Owner == "long-labels@regards.local").Select(o => o.Label).SingleAsync());
    }

    [Fact]
    public async Task Daily_volumes_group_by_the_UTC_day_of_the_dates()
    {
        const string owner = "volumes@regards.local";
        factory.CreateAnonymousClient();
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        var midnight = today.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        var before = await factory.Services.GetRequiredService<OrderStatistics>().DailyVolumesAsync(today, 3);
        await using (var db = factory.CreateDbContext())
        {
            db.Orders.AddRange(
                new Order { Owner = owner, Label = "late yesterday", CreationDate = midnight.AddTicks(-1), Status = OrderStatus.Paused, StatusDate = midnight, TotalSize = 1000 },
                new Order { Owner = owner, Label = "at midnight", CreationDate = midnight, Status = OrderStatus.Paused, StatusDate = midnight, TotalSize = 20 },
                new Order { Owner = owner, Label = "today", CreationDate = midnight.AddHours(1), Status = OrderStatus.Paused, StatusDate = midnight, TotalSize = 3 });
            await db.SaveChangesAsync();
        }
        var after = await factory.Services.GetRequiredService<OrderStatistics>().DailyVolumesAsync(today, 3);
        Assert.Equal([today.AddDays(-2), today.AddDays(-1), today], after.Select(d => d.Day));
        Assert.Equal([0L, 1000L, 23L], after.Zip(before, (a, b) => a.OrderedBytes - b.OrderedBytes));
    }
}
