using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>The bulk insert (SQLite's prepared INSERT, PostgreSQL's binary COPY) against SaveChanges, on each provider.</summary>
public abstract class BulkInsertTests(PortalAppFactory factory)
{
    public sealed class OnSqlite(PortalAppFactory factory) : BulkInsertTests(factory), IClassFixture<PortalAppFactory>;

    public sealed class OnPostgreSql(PostgreSqlFactory factory) : BulkInsertTests(factory), IClassFixture<PostgreSqlFactory>;

    private static OrderFile File(long orderId, long taskId, long subOrderId, int i, bool microseconds = false) => new()
    {
        PublicId = Guid.NewGuid(), OrderId = orderId, SubOrderId = subOrderId, DatasetTaskId = taskId, DataObjectId = $"URN:obj:{i}", ProviderId = $"P'{i}\"",
        Name = $"é file {i}.nc", Size = 1L << 40 | (uint)i, MimeType = "application/x-netcdf", Checksum = i % 2 == 0 ? null : new string('a', 64),
        DataType = i % 3 == 0 ? DataType.QuicklookSd : DataType.RawData, Tier = i % 2 == 0 ? StorageTier.Nearline : StorageTier.External,
        Location = $"p/{i}", State = i % 2 == 0 ? OrderFileState.DownloadError : OrderFileState.Pending, DownloadError = i % 2 == 0 ? "only 1/2 bytes" : null,
        DownloadedAt = i % 2 == 0 ? new DateTime(2026, 11, 26, 10, 11, 12, 345, DateTimeKind.Utc).AddTicks(microseconds ? 6780 : 6789) : null, Version = i,
    };

    private async Task<(long OrderId, long TaskId, long SubOrderId)> OrderAsync(string label)
    {
        factory.CreateAnonymousClient();
        await using var db = factory.CreateDbContext();
        var now = DateTime.UtcNow;
        var order = new Order { Owner = DemoUsers.User, Label = label, CreationDate = now, Status = OrderStatus.Paused, StatusDate = now };
        var task = new DatasetTask { DatasetId = "URN:bulk", DatasetLabel = "bulk" };
        order.DatasetTasks.Add(task);
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        // Paused and suspended: the engine leaves these rows alone.
        var sub = new SubOrder { OrderId = order.Id, Owner = order.Owner, DatasetTaskId = task.Id, Sequence = 1, QueuedAt = now, JobState = SubOrderJobState.Suspended };
        db.SubOrders.Add(sub);
        await db.SaveChangesAsync();
        return (order.Id, task.Id, sub.Id);
    }

    [Fact]
    public async Task In_the_caller_s_transaction_the_rows_commit_or_roll_back_with_it()
    {
        var (orderId, taskId, subOrderId) = await OrderAsync("bulk in a transaction");
        foreach (var commit in new[] { false, true })
        {
            await using var db = factory.CreateDbContext();
            await using var transaction = await db.Database.BeginTransactionAsync();
            await BulkInsert.InsertAsync(db, Enumerable.Range(0, 3).Select(i => File(orderId, taskId, subOrderId, i)).ToList(), CancellationToken.None);
            // Seen inside the transaction, not outside before the commit.
            Assert.Equal(3, await db.OrderFiles.CountAsync(f => f.OrderId == orderId));
            await using (var other = factory.CreateDbContext())
            {
                Assert.Equal(0, await other.OrderFiles.CountAsync(f => f.OrderId == orderId));
            }
            if (commit)
            {
                await transaction.CommitAsync();
            }
            else
            {
                await transaction.RollbackAsync();
            }
        }
        await using var check = factory.CreateDbContext();
        Assert.Equal(3, await check.OrderFiles.CountAsync(f => f.OrderId == orderId));
    }

    [Fact]
    public async Task Rows_written_by_the_bulk_insert_are_stored_exactly_as_SaveChanges_stores_them()
    {
        var (orderId, taskId, subOrderId) = await OrderAsync("bulk");
        var bulk = Enumerable.Range(0, 4).Select(i => File(orderId, taskId, subOrderId, i)).ToList();
        var tracked = Enumerable.Range(0, 4).Select(i => File(orderId, taskId, subOrderId, i)).ToList();
        await using (var db = factory.CreateDbContext())
        {
            await BulkInsert.InsertAsync(db, bulk, CancellationToken.None);
        }
        await using (var db = factory.CreateDbContext())
        {
            db.OrderFiles.AddRange(tracked);
            await db.SaveChangesAsync();
        }

        // Every stored column, with its storage class (SQLite) or type, is the same for the two paths.
        await using (var db = factory.CreateDbContext())
        {
            var connection = db.Database.GetDbConnection();
            await db.Database.OpenConnectionAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT * FROM \"OrderFiles\" WHERE \"OrderId\" = @order ORDER BY \"Id\"";
            var parameter = command.CreateParameter();
            parameter.ParameterName = "@order";
            parameter.Value = orderId;
            command.Parameters.Add(parameter);
            var rows = new List<Dictionary<string, string>>();
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    // Ids and public ids differ between the two copies: only their storage class is compared.
                    rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => reader.GetName(i) is "Id" or "PublicId"
                        ? reader.GetFieldType(i).Name
                        : $"{reader.GetFieldType(i).Name}:{(reader.IsDBNull(i) ? "NULL" : reader.GetValue(i))}"));
                }
            }
            Assert.Equal(8, rows.Count);
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(rows[i + 4], rows[i]);
            }
        }

        // ...and EF reads them back, values and Guid lookups included.
        await using (var db = factory.CreateDbContext())
        {
            for (var i = 0; i < 4; i++)
            {
                var read = await db.OrderFiles.AsNoTracking().SingleAsync(f => f.PublicId == bulk[i].PublicId);
                read.Id = 0; // not read back by the bulk insert
                // PostgreSQL keeps microseconds (SQLite's text keeps the 100 ns ticks), for SaveChanges' rows as well (above).
                var expected = File(orderId, taskId, subOrderId, i, microseconds: factory.Provider == DatabaseProvider.PostgreSql);
                expected.PublicId = bulk[i].PublicId;
                Assert.Equivalent(expected, read, strict: true);
            }
        }
    }
}
