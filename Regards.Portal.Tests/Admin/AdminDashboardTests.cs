using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor.Services;
using Regards.Portal.Admin;
using Regards.Portal.Admin.Components;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Notifications;
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

    /// <summary>The dashboard panel over the app's own services.</summary>
    private BunitContext PanelContext()
    {
        var ctx = new BunitContext();
        ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        ctx.Services.AddMudServices();
        ctx.Services.AddLocalization();
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<AdminDashboardService>());
        ctx.Services.AddSingleton(factory.Services.GetRequiredService<MailOutbox>());
        return ctx;
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

        await using var ctx = PanelContext();
        var panel = ctx.Render<OrdersDashboardPanel>();
        Assert.Equal("1", panel.Find("[data-testid=dashboard-staging]").TextContent);
        Assert.Equal("1", panel.Find("[data-testid=dashboard-waiting]").TextContent);
        Assert.Contains("Running (1)", panel.Markup);
    }

    [Fact]
    public async Task Failing_and_given_up_mails_show_on_the_dashboard_and_given_up_ones_can_be_sent_again()
    {
        var now = DateTime.UtcNow;
        long givenUpId;
        await using (var db = factory.CreateDbContext())
        {
            OutboxMail Mail(string subject, int attempts, bool gaveUp) => new()
            {
                To = DemoUsers.User, Subject = subject, Message = $"Subject: {subject}\r\nTo: {DemoUsers.User}\r\n\r\nbody", CreatedAt = now,
                NextAttemptAt = now.AddHours(1), Attempts = attempts, LastError = "Connection refused", GaveUp = gaveUp,
            };
            var givenUp = Mail("dash given up", 10, gaveUp: true);
            db.OutboxMails.AddRange(Mail("dash failing", 2, gaveUp: false), givenUp);
            await db.SaveChangesAsync();
            givenUpId = givenUp.Id;
        }

        var dashboard = await factory.Services.GetRequiredService<AdminDashboardService>().GetAsync(days: 7);
        Assert.Equal((1, 1), (dashboard.MailsFailing, dashboard.MailsGivenUp));

        await using var ctx = PanelContext();
        var panel = ctx.Render<OrdersDashboardPanel>();
        Assert.Equal("1", panel.Find("[data-testid=dashboard-mails-failing]").TextContent);
        Assert.Equal("1", panel.Find("[data-testid=dashboard-mails-given-up]").TextContent);

        // Sent again: a new series of attempts, due now (the sender may already have delivered it).
        await panel.InvokeAsync(() => panel.Find("[data-testid=dashboard-mails-retry]").Click());
        panel.WaitForAssertion(() => Assert.Empty(panel.FindAll("[data-testid=dashboard-mails-retry]")), TimeSpan.FromSeconds(10));
        await using var check = factory.CreateDbContext();
        var row = await check.OutboxMails.AsNoTracking().SingleOrDefaultAsync(m => m.Id == givenUpId);
        Assert.True(row is null || (!row.GaveUp && row.Attempts < 10), "the given-up mail must be queued again");
        Assert.Equal(1, await check.OutboxMails.CountAsync(m => m.Subject == "dash failing" && !m.GaveUp));
    }
}
