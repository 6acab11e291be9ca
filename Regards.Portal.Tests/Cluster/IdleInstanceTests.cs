using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Cluster;

/// <summary>
/// An instance on SQLite with nothing to do runs no query: its change feed and its engine ask SQLite's data_version,
/// and look at their tables only when another connection committed. It still hears another instance's commit at its
/// next poll: an order placed on A is claimed by B's engine at once, although B's periodic look (a sixth of a lease)
/// is 10 s away and nothing woke B.
/// </summary>
public sealed class IdleInstanceTests : IAsyncLifetime
{
    private readonly CommandCounter commands = new(() => true);
    private PortalAppFactory a = null!;
    private PortalAppFactory b = null!;

    public Task InitializeAsync()
    {
        a = new PortalAppFactory();
        a.Settings["Orders:EngineEnabled"] = "false";
        a.Settings["Orders:PollInterval"] = "00:00:00.100";
        a.Settings["Cluster:ChangePollInterval"] = "00:00:00.100";
        a.Settings["Orders:LeaseDuration"] = "00:01:00";
        // The loops that look rarely (e-mails, figures, sweeps, slot renewals) out of the measured seconds.
        a.Settings["Mail:OutboxPollInterval"] = "00:10:00";
        a.Settings["Telemetry:FiguresRefreshInterval"] = "01:00:00";
        a.Settings["Basket:ObjectSweepInterval"] = "01:00:00";
        a.Settings["Cluster:DownloadSlotLease"] = "01:00:00";
        _ = a.Services; // A migrates and seeds first
        b = a.SecondInstance();
        b.Settings["Orders:EngineEnabled"] = "true";
        b.ConfigureTestServices = services => services.ConfigureDbContext<SqlitePortalDbContext>(o => o.AddInterceptors(commands));
        _ = b.Services;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await b.DisposeAsync();
        await a.DisposeAsync();
    }

    [Fact]
    public async Task An_idle_instance_queries_nothing_yet_claims_another_instance_s_order_at_once()
    {
        // B's start-up work (recoveries, first sweeps, first claims) ends...
        var settled = Stopwatch.StartNew();
        int before;
        do
        {
            before = commands.Count;
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.True(settled.Elapsed < TimeSpan.FromSeconds(20), $"B never went quiet: {commands.Count} commands");
        }
        while (commands.Count != before);

        // ...then 3 s of polls every 100 ms (about 30 by the feed, 30 by the engine) run not one command.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(before, commands.Count);

        using var client = await a.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var placed = Stopwatch.StartNew();
        var orderId = (await CreateOrderAsync(client, "placed on A")).Id();
        await WaitAsync(async () =>
        {
            await using var db = b.CreateDbContext();
            return await db.Orders.AnyAsync(o => o.Id == orderId && (o.LeaseOwner != null || o.Status != OrderStatus.Pending));
        }, 10, "B's engine claims A's order");
        Assert.True(placed.Elapsed < TimeSpan.FromSeconds(3), $"claimed {placed.Elapsed.TotalSeconds:0.0} s after it was placed");
        Assert.True(commands.Count > before, "B queried once the database changed");
    }
}
