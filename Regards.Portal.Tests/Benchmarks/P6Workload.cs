using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Benchmarks;

/// <summary>
/// P6's work: users × 10 completed orders of 5 queued online sub-orders each, inserted at once, then staged by the
/// engines of one or several instances on one database; the figure is the engine's own cost per sub-order.
/// </summary>
internal static class P6Workload
{
    public const int OrdersPerUser = 10;
    public const int SubOrdersPerOrder = 5;

    public static PortalAppFactory Factory(DatabaseProvider provider)
    {
        var factory = PortalAppFactory.For(provider);
        factory.Settings["Orders:MaxActiveSubOrdersPerUser"] = "1000"; // the figure is the engine's own cost, not the users' download pace
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
        factory.Settings["Logging:LogLevel:Default"] = "Warning";
        return factory;
    }

    /// <summary>Inserts the orders with their sub-orders suspended (no engine sees them yet); their count and the insert time.</summary>
    public static async Task<(int SubOrders, TimeSpan Inserted)> SeedAsync(PortalAppFactory factory, int users)
    {
        factory.StartKestrel();
        var generator = factory.Services.GetRequiredService<CatalogGenerator>();
        var total = users * OrdersPerUser * SubOrdersPerOrder;
        var datasetId = await generator.AddBenchmarkDatasetAsync(total, 1, 1024, metadataOnly: false);

        List<(string ObjectId, string Name, string Location, long Size, string? Checksum)> catalog;
        await using (var db = factory.CreateDbContext())
        {
            catalog = (await db.DataFiles.Where(f => f.DataObject!.DatasetId == datasetId).OrderBy(f => f.DataObjectId)
                .Select(f => new { f.DataObjectId, f.Name, f.Location, f.Size, f.Checksum }).ToListAsync())
                .Select(f => (f.DataObjectId, f.Name, f.Location, f.Size ?? 0, (string?)f.Checksum)).ToList();
        }

        // 1 000 completed orders, each with 5 queued online sub-orders, inserted at once: the engine sees them all on commit.
        var now = DateTime.UtcNow;
        var watch = Stopwatch.StartNew();
        await using (var db = factory.CreateDbContext())
        {
            // Three statements batches: orders, then their sub-orders, then their files; the engine starts on the last commit.
            var orders = new List<(Order Order, DatasetTask Task)>();
            for (var u = 0; u < users; u++)
            {
                for (var o = 0; o < OrdersPerUser; o++)
                {
                    var order = new Order { Owner = $"bench-{u:000}@regards.local", Label = $"p6-{u}-{o}", CreationDate = now, Status = OrderStatus.Running, StatusDate = now, CompletionDate = now, ExpirationDate = now.AddDays(7), FilesCount = SubOrdersPerOrder };
                    var task = new DatasetTask { DatasetId = datasetId, DatasetLabel = "bench", FilesCount = SubOrdersPerOrder, ObjectsCount = SubOrdersPerOrder };
                    order.DatasetTasks.Add(task);
                    orders.Add((order, task));
                }
            }
            db.Orders.AddRange(orders.Select(x => x.Order));
            await db.SaveChangesAsync();
            var subs = new List<(SubOrder Sub, Order Order, DatasetTask Task)>();
            foreach (var (order, task) in orders)
            {
                for (var s = 0; s < SubOrdersPerOrder; s++)
                {
                    // Suspended until the files exist, so the engine does not see an empty sub-order.
                    subs.Add((new SubOrder { OrderId = order.Id, Owner = order.Owner, DatasetTaskId = task.Id, Sequence = s + 1, JobState = SubOrderJobState.Suspended, QueuedAt = now }, order, task));
                }
            }
            db.SubOrders.AddRange(subs.Select(x => x.Sub));
            await db.SaveChangesAsync();
            var next = 0;
            foreach (var (sub, order, task) in subs)
            {
                var file = catalog[next++];
                db.OrderFiles.Add(new OrderFile
                {
                    PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = sub.Id, DatasetTaskId = task.Id, DataObjectId = file.ObjectId, ProviderId = file.ObjectId,
                    Name = file.Name, Size = file.Size, Checksum = file.Checksum, Tier = StorageTier.Online, Location = file.Location, DataType = DataType.RawData, State = OrderFileState.Pending,
                });
            }
            await db.SaveChangesAsync();
        }
        return (total, watch.Elapsed);
    }

    /// <summary>Queues every sub-order, wakes the engines of <paramref name="instances"/> and waits until all are staged.</summary>
    public static async Task<TimeSpan> StageAllAsync(PortalAppFactory database, IReadOnlyList<PortalAppFactory> instances)
    {
        var watch = Stopwatch.StartNew();
        await using (var db = database.CreateDbContext())
        {
            await db.SubOrders.Where(s => s.JobState == SubOrderJobState.Suspended).ExecuteUpdateAsync(s => s.SetProperty(x => x.JobState, SubOrderJobState.Queued));
        }
        foreach (var instance in instances)
        {
            instance.Services.GetRequiredService<EngineSignal>().Wake();
        }
        await WaitAsync(async () =>
        {
            await using var db = database.CreateDbContext();
            return !await db.OrderFiles.AnyAsync(f => f.State == OrderFileState.Pending)
                   && !await db.Orders.AnyAsync(o => o.Status == OrderStatus.Running);
        }, 600, "all sub-orders staged");
        watch.Stop();
        await using (var db = database.CreateDbContext())
        {
            var total = await db.SubOrders.CountAsync();
            Assert.Equal(total, await db.OrderFiles.CountAsync(f => f.State == OrderFileState.Available));
            Assert.Equal(total / SubOrdersPerOrder, await db.Orders.CountAsync(o => o.Status == OrderStatus.Done && o.Label.StartsWith("p6-")));
        }
        return watch.Elapsed;
    }
}
