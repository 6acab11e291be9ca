using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>The real app with the engine off: the order pages' tests arrange every status by hand in the database.</summary>
public class OrderPagesFactory : PortalAppFactory
{
    public OrderPagesFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected OrderPagesFactory(DatabaseProvider provider) : base(provider)
    {
        Settings["Orders:EngineEnabled"] = "false";
    }

    /// <summary>The same on PostgreSQL, for the pages whose queries differ by provider (grouping, distinct counts).</summary>
    public sealed class OnPostgreSql() : OrderPagesFactory(DatabaseProvider.PostgreSql);

    public OrderService Orders => Services.GetRequiredService<OrderService>();

    /// <summary>A fresh owner per test: the pages only show that owner's orders, so tests do not see each other's rows.</summary>
    public static string NewOwner() => $"u{Guid.NewGuid():N}@pages.test";

    /// <summary>What a test may change of a seeded order before it is written (orders are init-only once built).</summary>
    public sealed class OrderSeed
    {
        public required string Label { get; set; }
        public DateTime CreationDate { get; set; }
        public DateTime? ExpirationDate { get; set; }
        public int PercentCompleted { get; set; } = 50;
        public int FilesCount { get; set; } = 4;
        public long TotalSize { get; set; } = 4096;
        public int ObjectsCount { get; set; } = 2;
        public int AvailableFilesCount { get; set; } = 2;
        public int ZippableFilesCount { get; set; } = 2;
        public int FilesInErrorCount { get; set; }
        public bool WaitingForUser { get; set; }
        public string? Message { get; set; }
        public bool IsApplicationOrder { get; set; }
        public List<DatasetTask> DatasetTasks { get; set; } = [];
    }

    /// <summary>An order row in <paramref name="status"/> (completed, two available files unless changed), straight into the database.</summary>
    public async Task<Order> SeedOrderAsync(string owner, OrderStatus status, Action<OrderSeed>? configure = null)
    {
        var now = DateTime.UtcNow;
        var seed = new OrderSeed { Label = $"{status} {Guid.NewGuid():N}"[..30], CreationDate = now, ExpirationDate = now.AddDays(5) };
        configure?.Invoke(seed);
        var order = new Order
        {
            Owner = owner, Label = seed.Label, CreationDate = seed.CreationDate, Status = status, StatusDate = now,
            ExpirationDate = seed.ExpirationDate, CompletionDate = now, PercentCompleted = seed.PercentCompleted, FilesCount = seed.FilesCount,
            TotalSize = seed.TotalSize, ObjectsCount = seed.ObjectsCount, AvailableFilesCount = seed.AvailableFilesCount,
            ZippableFilesCount = seed.ZippableFilesCount, FilesInErrorCount = seed.FilesInErrorCount, WaitingForUser = seed.WaitingForUser,
            Message = seed.Message, IsApplicationOrder = seed.IsApplicationOrder, DatasetTasks = seed.DatasetTasks,
        };
        await using var db = CreateDbContext();
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        return order;
    }

    /// <summary>An order with one dataset task per label, <paramref name="subOrders"/> internal sub-orders and one file per state of <paramref name="states"/>
    /// (round-robin over the sub-orders), all in the first task.</summary>
    public async Task<Order> SeedOrderWithFilesAsync(string owner, OrderStatus status, string[] taskLabels, int subOrders, params OrderFileState[] states)
    {
        var order = await SeedOrderAsync(owner, status, o =>
        {
            o.DatasetTasks = taskLabels.Select((label, i) => new DatasetTask { DatasetId = CatalogGenerator.SwotId, DatasetLabel = label, ObjectsCount = i + 1, FilesCount = states.Length, FilesSize = 1000 }).ToList();
            o.FilesCount = states.Length;
        });
        await using var db = CreateDbContext();
        var subs = Enumerable.Range(1, subOrders).Select(i => new SubOrder
        {
            OrderId = order.Id, Owner = owner, DatasetTaskId = order.DatasetTasks[0].Id, Sequence = i, JobState = SubOrderJobState.Staged, QueuedAt = DateTime.UtcNow,
        }).ToList();
        db.SubOrders.AddRange(subs);
        await db.SaveChangesAsync();
        db.OrderFiles.AddRange(states.Select((state, i) => new OrderFile
        {
            PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = subs[i % subs.Count].Id, DatasetTaskId = order.DatasetTasks[0].Id,
            DataObjectId = $"obj-{i}", ProviderId = $"P{i}", Name = $"file-{i:D2}-{state}.nc", Size = 100 + i, Tier = StorageTier.Online,
            Location = $"x/file-{i}.nc", State = state, DownloadError = state == OrderFileState.DownloadError ? "only 10/100 bytes" : null,
        }));
        await db.SaveChangesAsync();
        return order;
    }
}
