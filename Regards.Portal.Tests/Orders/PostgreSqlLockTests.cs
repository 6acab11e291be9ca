using Microsoft.EntityFrameworkCore;
using Npgsql;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Orders;

/// <summary>
/// What PostgreSQL adds to SQLite's one-writer-at-a-time: row locks, taken statement by statement, and snapshots that
/// do not see uncommitted rows. Two transactions are interleaved on purpose, the second one's progress read from the
/// server (it waits for a lock), so each race is played the same way every time.
/// </summary>
public sealed class PostgreSqlLockTests : IDisposable
{
    private const string Owner = "locks@regards.local";
    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", $"locks-{Guid.NewGuid():N}");
    private readonly TestDatabase database;

    public PostgreSqlLockTests()
    {
        Directory.CreateDirectory(folder);
        database = TestDatabase.Create(DatabaseProvider.PostgreSql, folder, nameof(PostgreSqlLockTests));
        using var db = database.Open();
        db.Database.Migrate();
    }

    public void Dispose()
    {
        database.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    /// <summary>A RUNNING order of <paramref name="subOrders"/> sub-orders in <paramref name="state"/>, each with two PENDING files.</summary>
    private async Task<(long OrderId, long[] SubOrderIds, long[] FileIds)> OrderAsync(int subOrders, SubOrderJobState state, string? leaseOwner = null)
    {
        var now = DateTime.UtcNow;
        await using var db = database.Open();
        var order = new Order { Owner = Owner, Label = $"locks {Guid.NewGuid():N}", CreationDate = now, Status = OrderStatus.Running, StatusDate = now, CompletionDate = now, ExpirationDate = now.AddDays(1) };
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        var task = new DatasetTask { OrderId = order.Id, DatasetId = "ds", DatasetLabel = "ds" };
        db.DatasetTasks.Add(task);
        await db.SaveChangesAsync();
        var subs = Enumerable.Range(1, subOrders).Select(i => new SubOrder
        {
            OrderId = order.Id, Owner = Owner, DatasetTaskId = task.Id, Sequence = i, JobState = state, QueuedAt = now,
            LeaseOwner = leaseOwner, LeaseExpiresAt = leaseOwner is null ? null : now.AddMinutes(5),
        }).ToList();
        db.SubOrders.AddRange(subs);
        await db.SaveChangesAsync();
        var files = subs.SelectMany(s => Enumerable.Range(0, 2).Select(i => new OrderFile
        {
            PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = s.Id, DatasetTaskId = task.Id, DataObjectId = $"o{s.Id}-{i}", ProviderId = $"p{s.Id}-{i}",
            Name = $"f{s.Id}-{i}", Size = 10, Tier = StorageTier.Nearline, Location = $"l{s.Id}-{i}", State = OrderFileState.Pending,
        })).ToList();
        db.OrderFiles.AddRange(files);
        await db.SaveChangesAsync();
        return (order.Id, subs.Select(s => s.Id).ToArray(), files.Select(f => f.Id).ToArray());
    }

    /// <summary>Waits until <paramref name="second"/> has ended or one session of the database waits for a lock.</summary>
    private async Task WaitUntilBlockedOrDoneAsync(Task second)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'", connection);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!second.IsCompleted && (long)(await waiting.ExecuteScalarAsync())! == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the second transaction neither ended nor waited for a lock");
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Two_instances_claiming_sub_orders_of_one_user_at_once_stay_within_the_user_s_limit()
    {
        var (_, subOrders, _) = await OrderAsync(2, SubOrderJobState.Queued);
        var now = DateTime.UtcNow;

        // Instance A claims the user's last free slot (max 1) and has not committed yet...
        await using var a = database.Open();
        await using var transaction = await a.Database.BeginTransactionAsync();
        Assert.True(await OrderBulk.TryClaimSubOrderAsync(a, subOrders[0], Owner, "instance-a", now, now.AddMinutes(1), maxActive: 1, CancellationToken.None));

        // ...when instance B claims the other sub-order: its count must not miss A's claim.
        await using var b = database.Open();
        var claimB = OrderBulk.TryClaimSubOrderAsync(b, subOrders[1], Owner, "instance-b", now, now.AddMinutes(1), maxActive: 1, CancellationToken.None);
        await WaitUntilBlockedOrDoneAsync(claimB);
        await transaction.CommitAsync();

        Assert.False(await claimB, "a second sub-order of the user was claimed past the limit of 1");
        await using var check = database.Open();
        Assert.Equal(1, await check.SubOrders.CountAsync(s => s.Owner == Owner && s.JobState == SubOrderJobState.Staging));
    }

    [Fact]
    public async Task An_expiry_during_a_staging_job_s_write_waits_for_it_without_deadlock_and_the_job_s_release_is_kept_out()
    {
        var (orderId, subOrders, files) = await OrderAsync(2, SubOrderJobState.Staging, leaseOwner: "engine-a");

        // The engine writes its staging results (StageFilesAsync: files, then the sub-order's release, one transaction)...
        await using var engine = database.Open();
        await using var transaction = await engine.Database.BeginTransactionAsync();
        Assert.True(await OrderBulk.MarkStagedAsync(engine, subOrders[0], "engine-a", [files[0], files[1]], []));

        // ...when the sweeper expires the order: order, sub-orders, files.
        await using var sweeper = database.Open();
        var expiry = OrderBulk.TryExpireAsync(sweeper, orderId, DateTime.UtcNow, CancellationToken.None);
        await WaitUntilBlockedOrDoneAsync(expiry);

        // The job releases its sub-order and commits: with the two in opposite lock orders, one of them is a deadlock victim.
        await OrderBulk.ReleaseSubOrderAsync(engine, subOrders[0], "engine-a", SubOrderAction.Staged);
        await transaction.CommitAsync();
        Assert.True(await expiry);

        await using var check = database.Open();
        Assert.Equal(OrderStatus.Expired, await check.Orders.Where(o => o.Id == orderId).Select(o => o.Status).SingleAsync());
        Assert.Empty(await check.OrderFiles.Where(f => f.OrderId == orderId).ToListAsync());
        Assert.All(await check.SubOrders.Where(s => s.OrderId == orderId).ToListAsync(), s => Assert.Equal((SubOrderJobState.Ended, null), (s.JobState, s.LeaseOwner)));
    }

    [Fact]
    public async Task A_staging_job_whose_order_is_cancelled_while_it_writes_writes_nothing_after_the_cancel()
    {
        var (orderId, subOrders, files) = await OrderAsync(1, SubOrderJobState.Staging, leaseOwner: "engine-a");

        // The cancel has closed the sub-orders (their leases cleared) and not committed yet...
        await using var cancel = database.Open();
        await using var transaction = await cancel.Database.BeginTransactionAsync();
        Assert.Equal(1, await OrderBulk.CloseSubOrdersAsync(cancel, orderId, CancellationToken.None));

        // ...when the job's staging results arrive: they wait for the cancel, then find the lease gone.
        await using var engine = database.Open();
        var staged = OrderBulk.FailPendingFilesAsync(engine, subOrders[0], "engine-a", OrderFileState.Error, "timed out");
        await WaitUntilBlockedOrDoneAsync(staged);
        await transaction.CommitAsync();

        Assert.Equal(0, await staged);
        await using var check = database.Open();
        Assert.All(await check.OrderFiles.Where(f => files.Contains(f.Id)).ToListAsync(), f => Assert.Equal(OrderFileState.Pending, f.State));
    }
}
