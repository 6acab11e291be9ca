using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>The engine's writes are fenced by its lease, on a real SQLite file and on PostgreSQL: once an order is
/// cancelled (its sub-orders closed) or its job taken over, a staging job still running writes nothing.</summary>
public abstract class OrderBulkTests(DatabaseProvider provider) : IAsyncLifetime
{
    [Trait("Tier", "Fast")]
    public sealed class OnSqlite() : OrderBulkTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : OrderBulkTests(DatabaseProvider.PostgreSql);

    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", $"bulk-{Guid.NewGuid():N}");
    private TestDatabase database = null!;
    private long orderId, subOrderId;
    private long[] files = [];

    private PortalDbContext Open() => database.Open();

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(folder);
        database = TestDatabase.Create(provider, folder, nameof(OrderBulkTests));
        var now = DateTime.UtcNow;
        await using var db = Open();
        await db.Database.MigrateAsync();
        var order = new Order { Owner = "u@x", Label = "fenced", CreationDate = now, Status = OrderStatus.Running, StatusDate = now, CompletionDate = now, ExpirationDate = now.AddDays(1) };
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        var task = new DatasetTask { OrderId = order.Id, DatasetId = "ds", DatasetLabel = "ds" };
        db.DatasetTasks.Add(task);
        await db.SaveChangesAsync();
        var sub = new SubOrder { OrderId = order.Id, Owner = "u@x", DatasetTaskId = task.Id, Sequence = 1, JobState = SubOrderJobState.Staging, QueuedAt = now, LeaseOwner = "engine-a", LeaseExpiresAt = now.AddSeconds(30) };
        db.SubOrders.Add(sub);
        await db.SaveChangesAsync();
        var rows = Enumerable.Range(0, 3).Select(i => new OrderFile
        {
            PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = sub.Id, DatasetTaskId = task.Id, DataObjectId = $"o{i}", ProviderId = $"p{i}",
            Name = $"f{i}", Size = 10, Tier = StorageTier.Nearline, Location = $"l{i}", State = OrderFileState.Pending,
        }).ToList();
        db.OrderFiles.AddRange(rows);
        await db.SaveChangesAsync();
        (orderId, subOrderId, files) = (order.Id, sub.Id, rows.Select(f => f.Id).ToArray());
    }

    public Task DisposeAsync()
    {
        database.Dispose();
        Directory.Delete(folder, recursive: true);
        return Task.CompletedTask;
    }

    private async Task StageAsync(string instance)
    {
        await using var db = Open();
        await OrderBulk.MarkStagedAsync(db, subOrderId, instance, [files[0], files[1]], new[] { files[2] }.GroupBy(_ => "restore failed"));
        await OrderBulk.ReleaseSubOrderAsync(db, subOrderId, instance, SubOrderAction.Staged);
    }

    private async Task<(List<OrderFileState> Files, SubOrderJobState State, bool Waiting)> ReadAsync()
    {
        await using var db = Open();
        var states = await db.OrderFiles.Where(f => f.OrderId == orderId).OrderBy(f => f.Id).Select(f => f.State).ToListAsync();
        var sub = await db.SubOrders.AsNoTracking().SingleAsync(s => s.Id == subOrderId);
        return (states, sub.JobState, sub.WaitingForUser);
    }

    [Fact]
    public async Task The_job_holding_the_lease_writes_its_results_and_releases_its_sub_order()
    {
        await StageAsync("engine-a");
        var (states, state, _) = await ReadAsync();
        Assert.Equal([OrderFileState.Available, OrderFileState.Available, OrderFileState.Error], states);
        Assert.Equal(SubOrderJobState.Staged, state);
    }

    [Fact]
    public async Task After_a_cancel_closed_the_sub_orders_a_late_staging_job_writes_nothing()
    {
        await using (var db = Open())
        {
            var order = await db.Orders.SingleAsync(o => o.Id == orderId);
            order.Delete(OrderAction.Cancel, DateTime.UtcNow);
            await OrderBulk.CloseSubOrdersAsync(db, orderId, CancellationToken.None);
            await db.SaveChangesAsync();
        }
        await StageAsync("engine-a");
        await using (var db = Open())
        {
            Assert.Equal(0, await OrderBulk.FailPendingFilesAsync(db, subOrderId, "engine-a", OrderFileState.Error, "timed out"));
        }
        var (states, state, waiting) = await ReadAsync();
        Assert.All(states, s => Assert.Equal(OrderFileState.Pending, s));
        Assert.Equal((SubOrderJobState.Ended, false), (state, waiting));
    }

    [Fact]
    public async Task A_job_whose_lease_was_taken_over_writes_nothing()
    {
        await using (var db = Open())
        {
            // Its lease expired and another instance claimed the sub-order.
            await db.SubOrders.Where(s => s.Id == subOrderId).ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, "engine-b"));
        }
        await StageAsync("engine-a");
        var (states, state, _) = await ReadAsync();
        Assert.All(states, s => Assert.Equal(OrderFileState.Pending, s));
        Assert.Equal(SubOrderJobState.Staging, state);
    }
}
