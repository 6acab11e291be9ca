using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Regards.Portal.Admin;
using Regards.Portal.Admin.Components;
using Regards.Portal.Catalog;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Admin;

public sealed class AdminDashboardTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public AdminDashboardTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.Settings["Orders:EngineEnabled"] = "false";
    }

    [Fact]
    public async Task Dashboard_counts_orders_per_status_and_sums_volumes_per_day()
    {
        var now = factory.Services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        await using (var db = factory.CreateDbContext())
        {
            Order NewOrder(string label, OrderStatus status, DateTime created, long size) => new()
            {
                Owner = DemoUsers.User, Label = label, Status = status, CreationDate = created, StatusDate = created, TotalSize = size,
            };
            var today = NewOrder("dash-1", OrderStatus.Running, now, 3 * 1048576);
            var yesterday = NewOrder("dash-2", OrderStatus.Done, now.AddDays(-1), 1048576);
            var old = NewOrder("dash-3", OrderStatus.Done, now.AddDays(-40), 5 * 1048576);
            db.Orders.AddRange(today, yesterday, old);
            await db.SaveChangesAsync();
            var sub = new SubOrder { OrderId = today.Id, Owner = DemoUsers.User, Sequence = 1, JobState = SubOrderJobState.Staged, WaitingForUser = true };
            var staging = new SubOrder { OrderId = yesterday.Id, Owner = DemoUsers.User, Sequence = 1, JobState = SubOrderJobState.Staging };
            db.SubOrders.AddRange(sub, staging);
            await db.SaveChangesAsync();
            db.OrderFiles.Add(new OrderFile
            {
                PublicId = Guid.NewGuid(), OrderId = today.Id, SubOrderId = sub.Id, DataObjectId = "o", ProviderId = "p", Name = "f.nc",
                Size = 2 * 1048576, Location = "x", Tier = StorageTier.Online, State = OrderFileState.Downloaded, DownloadedAt = now,
            });
            await db.SaveChangesAsync();
        }

        var dashboard = await factory.Services.GetRequiredService<AdminDashboardService>().GetAsync(days: 7);

        Assert.Contains(new StatusCount(OrderStatus.Running, 1), dashboard.Statuses);
        Assert.Contains(new StatusCount(OrderStatus.Done, 2), dashboard.Statuses);
        Assert.Equal(7, dashboard.Days.Count);
        var todayRow = dashboard.Days[^1];
        Assert.Equal(DateOnly.FromDateTime(now), todayRow.Day);
        Assert.Equal(3 * 1048576, todayRow.OrderedBytes);
        Assert.Equal(2 * 1048576, todayRow.DownloadedBytes);
        Assert.Equal(1048576, dashboard.Days[^2].OrderedBytes);
        Assert.Equal(4 * 1048576, dashboard.Days.Sum(d => d.OrderedBytes)); // the 40-day-old order is outside the window
        Assert.Equal(1, dashboard.SubOrdersStaging);
        Assert.Equal(1, dashboard.SubOrdersWaiting);

        await using var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddLocalization();
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<AdminDashboardService>());
        var panel = ctx.Render<OrdersDashboardPanel>();
        Assert.Equal("1", panel.Find("[data-testid=dashboard-staging]").TextContent);
        Assert.Equal("1", panel.Find("[data-testid=dashboard-waiting]").TextContent);
        Assert.Contains("Running (1)", panel.Markup);
    }
}
