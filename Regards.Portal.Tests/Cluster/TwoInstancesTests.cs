using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Cluster;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Cluster;

/// <summary>
/// Two instances of the portal in one test process on one database (one SQLite file; one PostgreSQL database): what
/// one instance changes, the other hears through the change feed within about a second, although every cache lifetime
/// and lease in play is far longer. Instance A runs no engine, so B's engine does the staging.
/// </summary>
public abstract class TwoInstancesTests(DatabaseProvider provider) : IAsyncLifetime
{
    public sealed class OnSqlite() : TwoInstancesTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : TwoInstancesTests(DatabaseProvider.PostgreSql);

    private static readonly TimeSpan Heard = TimeSpan.FromSeconds(2);

    private PortalAppFactory a = null!;
    private PortalAppFactory b = null!;

    public Task InitializeAsync()
    {
        a = PortalAppFactory.For(provider);
        a.Settings["Storage:NearlineLatencyPerRequest"] = "00:00:05";
        a.Settings["Orders:SubOrderMaxFiles"] = "4";
        a.Settings["Orders:MaxActiveSubOrdersPerUser"] = "2";
        a.Settings["Orders:PollInterval"] = "00:00:00.100";
        // Long enough that a lease renewal cannot be what stops B's jobs within the test's second.
        a.Settings["Orders:LeaseDuration"] = "00:01:00";
        a.Settings["Downloads:MaxConcurrentZipsPerUser"] = "1";
        a.Settings["Orders:EngineEnabled"] = "false";
        _ = a.Services; // A migrates and seeds first
        b = a.SecondInstance();
        b.Settings["Orders:EngineEnabled"] = "true";
        _ = b.Services;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await b.DisposeAsync();
        await a.DisposeAsync();
    }

    [Fact]
    public async Task A_pause_on_one_instance_reaches_the_other_s_pages_and_stops_its_staging_within_a_second()
    {
        using var client = await a.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var orderId = (await CreateOrderAsync(client, "two instances")).Id();
        await WaitAsync(async () =>
        {
            await using var db = b.CreateDbContext();
            return await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging);
        }, 30, "B's engine stages the order");

        var heardOnB = new TaskCompletionSource<OrderChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var page = b.Services.GetRequiredService<OrderChangeNotifier>().Subscribe(DemoUsers.User, change =>
        {
            if (change.OrderId == orderId && change.Status == OrderStatus.Paused)
            {
                heardOnB.TrySetResult(change);
            }
            return Task.CompletedTask;
        });
        var paused = DateTime.UtcNow;
        (await client.PutAsync($"/api/user/orders/pause/{orderId}", null)).EnsureSuccessStatusCode();

        await heardOnB.Task.WaitAsync(Heard);
        // B's jobs stop now, not at their lease renewal 20 s away: no sub-order of the order is staging any more.
        await WaitAsync(async () =>
        {
            await using var db = b.CreateDbContext();
            return !await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging);
        }, 10, "B's staging jobs stop");
        Assert.InRange(DateTime.UtcNow - paused, TimeSpan.Zero, Heard + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Settings_modules_carts_and_quotas_changed_on_one_instance_apply_on_the_other_at_once()
    {
        // B reads (and caches) everything first.
        var settingsB = b.Services.GetRequiredService<PortalSettingsService>();
        var before = await settingsB.GetAsync();
        var modulesB = b.Services.GetRequiredService<UiModuleService>();
        var module = await modulesB.GetAsync(UiModuleSettings.Modules[0]);
        var quotasB = b.Services.GetRequiredService<DownloadQuotas>();
        Assert.Equal(-1, (await quotasB.GetLimitsAsync(DemoUsers.User, CancellationToken.None)).MaxDownloads);
        var moduleHeard = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        modulesB.Changed += id =>
        {
            if (id == module.ModuleId)
            {
                moduleHeard.TrySetResult();
            }
        };
        var cartHeard = new TaskCompletionSource<BasketDto?>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var cartPage = b.Services.GetRequiredService<BasketChangeNotifier>().Subscribe(DemoUsers.User, basket =>
        {
            cartHeard.TrySetResult(basket);
            return Task.CompletedTask;
        });

        await a.Services.GetRequiredService<PortalSettingsService>().SaveAsync(before with { ReminderDelayHours = before.ReminderDelayHours + 1 }, DemoUsers.Admin);
        module.TitleEn = "Renamed on A";
        await a.Services.GetRequiredService<UiModuleService>().SaveAsync(module, DemoUsers.Admin);
        await a.Services.GetRequiredService<DownloadQuotas>().SetUserLimitsAsync(DemoUsers.User, 7, -1, false, CancellationToken.None);
        using var client = await a.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Swot });

        await moduleHeard.Task.WaitAsync(Heard);
        Assert.Equal("Renamed on A", (await modulesB.GetAsync(module.ModuleId)).TitleEn);
        var cart = await cartHeard.Task.WaitAsync(Heard);
        Assert.NotNull(cart);
        Assert.True(cart.Quota > 0);
        // Both caches live 30 s: only the feed explains a change seen now.
        Assert.Equal(before.ReminderDelayHours + 1, (await settingsB.GetAsync()).ReminderDelayHours);
        Assert.Equal(7, (await quotasB.GetLimitsAsync(DemoUsers.User, CancellationToken.None)).MaxDownloads);
    }

    [Fact]
    public async Task A_user_s_zip_limit_holds_over_both_instances_and_a_slot_comes_back_when_its_response_ends()
    {
        var quotasA = a.Services.GetRequiredService<DownloadQuotas>();
        var quotasB = b.Services.GetRequiredService<DownloadQuotas>();
        var zipOnA = await quotasA.AcquireStreamAsync(DemoUsers.User, ConcurrencyKind.Zip, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<PortalException>(() => quotasB.AcquireStreamAsync(DemoUsers.User.ToUpperInvariant(), ConcurrencyKind.Zip, CancellationToken.None));
        Assert.Equal(("TOO_MANY_CONCURRENT_ZIPS", 429), (refused.Code, refused.Status));
        Assert.NotNull(refused.RetryAfterSeconds);
        await using (await quotasB.AcquireStreamAsync(DemoUsers.Guest, ConcurrencyKind.Zip, CancellationToken.None))
        {
            // another user
        }
        await using (await quotasB.AcquireStreamAsync(DemoUsers.User, ConcurrencyKind.Metalink, CancellationToken.None))
        {
            // metalinks have their own limit
        }
        await zipOnA.DisposeAsync();
        await zipOnA.DisposeAsync(); // given back once
        await using var zipOnB = await quotasB.AcquireStreamAsync(DemoUsers.User, ConcurrencyKind.Zip, CancellationToken.None);
        Assert.Equal(1, await b.Services.GetRequiredService<DownloadSlots>().CountAsync(DemoUsers.User, ConcurrencyKind.Zip));
        Assert.Equal((0, 1), (quotasA.Running(DemoUsers.User, ConcurrencyKind.Zip), quotasB.Running(DemoUsers.User, ConcurrencyKind.Zip)));
    }

    [Fact]
    public async Task A_slot_of_an_instance_that_stopped_renewing_lapses_and_a_live_instance_keeps_its_own()
    {
        var slotsA = a.Services.GetRequiredService<DownloadSlots>();
        var slotsB = b.Services.GetRequiredService<DownloadSlots>();
        Assert.NotNull(await slotsA.TryTakeAsync(DemoUsers.Guest, ConcurrencyKind.Zip, 2, CancellationToken.None));
        Assert.NotNull(await slotsB.TryTakeAsync(DemoUsers.Guest, ConcurrencyKind.Zip, 2, CancellationToken.None));
        Assert.Null(await slotsB.TryTakeAsync(DemoUsers.Guest, ConcurrencyKind.Zip, 2, CancellationToken.None));
        // A is "killed": its slot's lease is made to end now; B renews its own and clears the lapsed one.
        await using (var db = a.CreateDbContext())
        {
            var instanceA = a.Services.GetRequiredService<ChangeFeed>().InstanceId;
            await db.Set<DownloadSlotLease>().Where(s => s.Instance == instanceA)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.ExpiresAt, DateTime.UtcNow.AddSeconds(-1)));
        }
        await slotsB.RenewAsync(CancellationToken.None);
        Assert.Equal(1, await slotsB.CountAsync(DemoUsers.Guest, ConcurrencyKind.Zip));
        Assert.NotNull(await slotsB.TryTakeAsync(DemoUsers.Guest, ConcurrencyKind.Zip, 2, CancellationToken.None));
    }
}
