using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Orders;

/// <summary>Nearline orders split into many small sub-orders, staged with a real latency, default throttle of 2.</summary>
public class EngineFactory : PortalAppFactory
{
    public EngineFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected EngineFactory(DatabaseProvider provider) : base(provider)
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.800";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Orders:SubOrderMaxFiles"] = "4";
        Settings["Orders:MaxActiveSubOrdersPerUser"] = "2";
    }

    public sealed class OnPostgreSql() : EngineFactory(DatabaseProvider.PostgreSql);
}

/// <summary>The staging engine with the real storage latency: throttle, waiting user, downloads releasing slots, pause; on each provider.</summary>
public abstract class OrderEngineTests(EngineFactory factory)
{
    public sealed class OnSqlite(EngineFactory factory) : OrderEngineTests(factory), IClassFixture<EngineFactory>;

    public sealed class OnPostgreSql(EngineFactory.OnPostgreSql factory) : OrderEngineTests(factory), IClassFixture<EngineFactory.OnPostgreSql>;

    private sealed record Snapshot(int Active, int Staging, int Waiting, int Queued, int Suspended, int Pending, OrderStatus Status);

    private async Task<Snapshot> SnapshotAsync(long orderId, string owner)
    {
        await using var db = factory.CreateDbContext();
        var now = DateTime.UtcNow;
        var subs = await db.SubOrders.AsNoTracking().Where(s => s.Owner == owner && !s.External).ToListAsync();
        var mine = subs.Where(s => s.OrderId == orderId).ToList();
        var order = await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId);
        return new Snapshot(
            subs.Count(s => s.JobState == SubOrderJobState.Staging || (s.JobState == SubOrderJobState.Staged && s.WaitingForUser)),
            mine.Count(s => s.JobState == SubOrderJobState.Staging),
            mine.Count(s => s.WaitingForUser),
            mine.Count(s => s.JobState == SubOrderJobState.Queued),
            mine.Count(s => s.JobState == SubOrderJobState.Suspended),
            await db.OrderFiles.CountAsync(f => f.OrderId == orderId && f.State == OrderFileState.Pending),
            order.Status);
    }

    private async Task DownloadWaitingSubOrderAsync(long orderId)
    {
        List<long> ids;
        await using (var db = factory.CreateDbContext())
        {
            var sub = await db.SubOrders.AsNoTracking().Where(s => s.OrderId == orderId && s.WaitingForUser).OrderBy(s => s.Sequence).FirstAsync();
            ids = await db.OrderFiles.Where(f => f.SubOrderId == sub.Id && f.State == OrderFileState.Available).Select(f => f.Id).ToListAsync();
        }
        await factory.Services.GetRequiredService<IOrderFileEvents>().FilesDownloadedAsync(orderId, ids);
    }

    [Fact]
    public async Task Sub_orders_stage_two_at_a_time_wait_for_the_user_and_continue_after_downloads()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var order = await CreateOrderAsync(client, "throttled");
        var running = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "RUNNING");
        await using (var db = factory.CreateDbContext())
        {
            Assert.True(await db.SubOrders.CountAsync(s => s.OrderId == order.Id()) >= 5, "the order must be split into several sub-orders");
        }

        var maxActive = 0;
        var sawWaiting = false;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            var snap = await SnapshotAsync(order.Id(), DemoUsers.User);
            maxActive = Math.Max(maxActive, snap.Active);
            Assert.True(snap.Active <= 2, $"at most two sub-orders staging or waiting for the user, saw {snap}");
            if (snap.Status == OrderStatus.Done)
            {
                break;
            }
            if (snap.Waiting == 2 && snap.Staging == 0 && snap.Queued > 0)
            {
                // Both slots held by files waiting for the user: nothing else starts however long we wait.
                sawWaiting = true;
                var order2 = await GetOrderAsync(client, order.Id());
                Assert.True(order2.GetProperty("waitingForUser").GetBoolean());
                // What the engine's next pass would claim: nothing, the user's two slots are held.
                Assert.Empty(await factory.Services.GetRequiredService<OrderEngine>().ClaimSubOrdersAsync(8, CancellationToken.None));
                var still = await SnapshotAsync(order.Id(), DemoUsers.User);
                Assert.Equal(2, still.Waiting);
                Assert.Equal(0, still.Staging);
                Assert.Equal(snap.Queued, still.Queued);
                // The user downloads the first sub-order's files: its slot frees and the next sub-order starts.
                await DownloadWaitingSubOrderAsync(order.Id());
                await WaitAsync(async () => (await SnapshotAsync(order.Id(), DemoUsers.User)) is { Staging: > 0 } or { Queued: < 1 }, 10, "a queued sub-order starts after the download");
            }
            Assert.True(DateTime.UtcNow < deadline, $"order did not finish: {snap}");
            await Task.Delay(40);
        }
        Assert.Equal(2, maxActive);
        Assert.True(sawWaiting, "the order must have waited for the user");

        await using var check = factory.CreateDbContext();
        Assert.Equal(0, await check.OrderFiles.CountAsync(f => f.OrderId == order.Id() && (f.State == OrderFileState.Pending || f.State == OrderFileState.Error)));
    }

    [Fact]
    public async Task Pause_stops_staging_promptly_and_resume_carries_on_to_the_end()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var order = await CreateOrderAsync(client, "pause-me");
        await WaitAsync(async () => (await SnapshotAsync(order.Id(), DemoUsers.Guest)).Staging > 0, 30, "staging starts");

        var paused = await client.PutAsync($"/api/user/orders/pause/{order.Id()}", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.Equal("PAUSED", (await paused.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).Status());
        // The nearline restore (0.8 s) is cancelled: the jobs are suspended well before it would have ended.
        await WaitAsync(async () => (await SnapshotAsync(order.Id(), DemoUsers.Guest)).Staging == 0, 2, "staging stops promptly");
        var stopped = await SnapshotAsync(order.Id(), DemoUsers.Guest);
        Assert.True(stopped.Pending > 0);
        Assert.True(stopped.Suspended > 0);
        // The engine's next pass claims nothing of a paused order.
        Assert.DoesNotContain(await factory.Services.GetRequiredService<OrderEngine>().ClaimSubOrdersAsync(8, CancellationToken.None), c => c.OrderId == order.Id());
        var later = await SnapshotAsync(order.Id(), DemoUsers.Guest);
        Assert.Equal(OrderStatus.Paused, later.Status);
        Assert.Equal(stopped.Pending, later.Pending);
        Assert.Equal(0, later.Staging);
        Assert.DoesNotContain("pause", (await GetOrderModelAsync(client, order.Id())).Links());
        Assert.Contains("resume", (await GetOrderModelAsync(client, order.Id())).Links());

        var resumed = await client.PutAsync($"/api/user/orders/resume/{order.Id()}", null);
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        // Download as the sub-orders wait, so the throttle lets the whole order through.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((await SnapshotAsync(order.Id(), DemoUsers.Guest)) is { Status: not OrderStatus.Done } snap)
        {
            Assert.True(DateTime.UtcNow < deadline, $"order did not finish: {snap}");
            if (snap.Waiting > 0)
            {
                await DownloadWaitingSubOrderAsync(order.Id());
            }
            await Task.Delay(100);
        }
    }
}

/// <summary>SIGKILL of the real server mid-staging; a new server on the same database finishes the order. On each provider.</summary>
public abstract class EngineRestartTests(DatabaseProvider provider)
{
    public sealed class OnSqlite() : EngineRestartTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : EngineRestartTests(DatabaseProvider.PostgreSql);

    [Fact]
    public async Task An_order_killed_mid_staging_completes_after_a_restart_with_consistent_states()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataPath);
        var database = TestDatabase.Create(provider, dataPath, nameof(EngineRestartTests));
        var settings = new Dictionary<string, string>(database.Settings)
        {
            ["Storage:NearlineLatencyPerRequest"] = "00:00:01.500",
            ["Orders:SubOrderMaxFiles"] = "4",
            ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
            ["Orders:LeaseDuration"] = "00:00:03",
            ["Orders:PollInterval"] = "00:00:00.100",
            ["Seed:DemoObjectsPerDataset"] = "20",
        };
        try
        {
            long orderId;
            string deadInstance;
            await using (var first = await PortalProcess.StartAsync(dataPath, settings))
            {
                using var client = first.CreateClient();
                client.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(client, DemoUsers.User, "Regards!User1"));
                await FillCartAsync(client, new { datasetId = Sentinel });
                orderId = (await CreateOrderAsync(client, "killed")).Id();
                await WaitAsync(async () =>
                {
                    await using var db = database.Open();
                    return await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging);
                }, 30, "staging starts");
                await first.KillAsync();
                await using var dead = database.Open();
                deadInstance = (await dead.SubOrders.FirstAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging)).LeaseOwner!;
                Assert.Equal(await dead.OrderFiles.CountAsync(f => f.OrderId == orderId),
                    await dead.OrderFiles.CountAsync(f => f.OrderId == orderId && (f.State == OrderFileState.Pending || f.State == OrderFileState.Available)));
            }

            await using (var second = await PortalProcess.StartAsync(dataPath, settings))
            {
                using var client = second.CreateClient();
                client.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(client, DemoUsers.User, "Regards!User1"));
                var done = await WaitForOrderAsync(client, orderId, o => o.Status() is "DONE" or "DONE_WITH_WARNING" or "FAILED", 90);
                Assert.Equal("DONE", done.Status());
                Assert.Equal(100, done.GetProperty("percentCompleted").GetInt32());
                // The order can be DONE before every job the dead process held was taken over (its files were already
                // staged): the new instance takes the remaining leases once they expire.
                await WaitAsync(async () =>
                {
                    await using var db = database.Open();
                    return !await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging);
                }, 30, "stale leases taken over");
            }

            await using var after = database.Open();
            var files = await after.OrderFiles.Where(f => f.OrderId == orderId).ToListAsync();
            Assert.All(files, f => Assert.Equal(OrderFileState.Available, f.State));
            Assert.Equal(files.Count, files.Select(f => f.Id).Distinct().Count());
            var subs = await after.SubOrders.Where(s => s.OrderId == orderId).ToListAsync();
            Assert.All(subs, s => Assert.NotEqual(SubOrderJobState.Staging, s.JobState));
            Assert.DoesNotContain(subs, s => s.LeaseOwner == deadInstance);
            // The jobs the dead process held were taken over after their lease expired: staged twice, not lost.
            Assert.Contains(subs, s => s.Attempts >= 2);
        }
        finally
        {
            database.Dispose();
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
        }
    }
}
