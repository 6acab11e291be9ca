using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>Data migrations run on a real SQLite file holding rows written at the migration before them.</summary>
public sealed class MigrationDataTests : IDisposable
{
    private readonly string path = Path.Combine(Path.GetTempPath(), "regards-tests", $"migrations-{Guid.NewGuid():N}.db");

    private SqlitePortalDbContext Open() =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={path}").Options);

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(path);
    }

    [Fact]
    public async Task Final_orders_stop_waiting_for_the_user_and_live_ones_keep_waiting()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var now = DateTime.UtcNow;
        long deletedId, doneId;
        await using (var db = Open())
        {
            var migrations = db.Database.GetMigrations().ToList();
            var repair = migrations.FindIndex(m => m.EndsWith("_FinalOrdersWaitForNoOne", StringComparison.Ordinal));
            Assert.True(repair > 0);
            await db.GetService<IMigrator>().MigrateAsync(migrations[repair - 1]);

            // As the faulty delete left them: DELETED, yet waiting, with a sub-order still waiting.
            var deleted = new Order { Owner = "a@x", Label = "deleted", Status = OrderStatus.Deleted, CreationDate = now, StatusDate = now, WaitingForUser = true };
            var done = new Order { Owner = "a@x", Label = "done", Status = OrderStatus.Done, CreationDate = now, StatusDate = now, WaitingForUser = true };
            db.Orders.AddRange(deleted, done);
            await db.SaveChangesAsync();
            db.SubOrders.AddRange(
                new SubOrder { OrderId = deleted.Id, Owner = "a@x", Sequence = 1, WaitingForUser = true, JobState = SubOrderJobState.Ended, QueuedAt = now },
                new SubOrder { OrderId = done.Id, Owner = "a@x", Sequence = 1, WaitingForUser = true, JobState = SubOrderJobState.Staged, QueuedAt = now });
            await db.SaveChangesAsync();
            (deletedId, doneId) = (deleted.Id, done.Id);
        }

        await using (var db = Open())
        {
            await db.Database.MigrateAsync();
            Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            Assert.False(await db.Orders.Where(o => o.Id == deletedId).Select(o => o.WaitingForUser).SingleAsync());
            Assert.False(await db.SubOrders.Where(s => s.OrderId == deletedId).Select(s => s.WaitingForUser).SingleAsync());
            // A live order's flag is the truth about its files: untouched.
            Assert.True(await db.Orders.Where(o => o.Id == doneId).Select(o => o.WaitingForUser).SingleAsync());
            Assert.True(await db.SubOrders.Where(s => s.OrderId == doneId).Select(s => s.WaitingForUser).SingleAsync());
        }
    }
}
