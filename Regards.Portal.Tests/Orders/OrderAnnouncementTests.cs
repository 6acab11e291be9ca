using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Orders;

/// <summary>
/// The engine tells open pages that a part was claimed ("Queued" becomes "Preparing"): it reads the orders for them,
/// and only when a page listens on this instance; the other instances always hear the ids on the change feed.
/// </summary>
public sealed class OrderAnnouncementTests : IDisposable
{
    private static readonly AsyncLocal<bool> Watched = new();
    private readonly CommandCounter queries = new(() => Watched.Value);
    private readonly PortalAppFactory factory;

    public OrderAnnouncementTests()
    {
        // The commands of this test's own flow (the portal's background loops run on theirs).
        factory = new PortalAppFactory
        {
            Settings = { ["Orders:EngineEnabled"] = "false" },
            ConfigureTestServices = services => services.ConfigureDbContext<SqlitePortalDbContext>(o => o.AddInterceptors(queries)),
        };
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task A_claim_is_read_for_the_pages_that_listen_here_and_only_announced_elsewhere_when_none_does()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
        var orderId = (await CreateOrderAsync(client, "announced")).Id();
        var progress = factory.Services.GetRequiredService<OrderProgress>();
        var notifier = factory.Services.GetRequiredService<OrderChangeNotifier>();
        var key = orderId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        async Task<int> FeedRowsAsync()
        {
            await using var db = factory.CreateDbContext();
            return await db.Set<Regards.Portal.Cluster.ChangeFeedEntry>().CountAsync(e => e.Kind == Regards.Portal.Cluster.ChangeKinds.Order && e.Key == key);
        }
        // The order's creation is on the feed first.
        await WaitAsync(async () => await FeedRowsAsync() > 0, 10, "the created order on the change feed");
        var rows = await FeedRowsAsync();
        Watched.Value = true;

        // No page open: not one query, and the other instances still hear of it.
        await progress.AnnounceAsync([orderId], CancellationToken.None);
        Assert.Equal(0, queries.Count);
        Watched.Value = false;
        await WaitAsync(async () => await FeedRowsAsync() > rows, 10, "the claim on the change feed");
        Watched.Value = true;

        // The user's page is open: the order is read and pushed to it.
        var heard = new TaskCompletionSource<OrderChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (notifier.Subscribe(DemoUsers.User, change =>
        {
            heard.TrySetResult(change);
            return Task.CompletedTask;
        }))
        {
            await progress.AnnounceAsync([orderId], CancellationToken.None);
            Assert.Equal(1, queries.Count);
            var change = await heard.Task.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(orderId, change.OrderId);
            Assert.Equal(DemoUsers.User, change.Owner);
        }
    }
}
