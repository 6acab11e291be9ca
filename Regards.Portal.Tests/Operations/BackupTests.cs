using System.Collections.Concurrent;
using System.IO.Compression;
using System.Net;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Operations;

/// <summary>
/// <c>backup --to FILE</c> run as an operator runs it (a second process) while the portal creates and stages orders,
/// then the documented restore: the file (and the storage folders) put in a new data folder, the portal started on it.
/// </summary>
public sealed class BackupTests
{
    private static void Fast(PortalAppFactory factory)
    {
        factory.Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.200";
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
        factory.Settings["Orders:MaxActiveSubOrdersPerUser"] = "1000";
        // The leases of the instance the copy was taken from expire soon after the restore.
        factory.Settings["Orders:LeaseDuration"] = "00:00:02";
    }

    [Fact]
    public async Task A_backup_taken_under_load_holds_every_order_made_before_it_and_restores_to_a_portal_where_every_order_is_consistent()
    {
        using var live = new PortalAppFactory();
        Fast(live);
        var user = await live.CreateClientForAsync(DemoUsers.User);
        var created = new ConcurrentQueue<long>();
        using var stop = new CancellationTokenSource();
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                // Nearline single objects (staged 200 ms each) and online ones, one order per cart.
                await FillCartAsync(user, i % 2 == 0 ? new { datasetId = Sentinel, q = $"_0000{i % 10}" } : new { datasetId = Swot, q = "SSH_001_01" });
                created.Enqueue((await CreateOrderAsync(user, $"load {i}")).Id());
            }
        });
        await WaitAsync(() => Task.FromResult(created.Count >= 4 || load.IsCompleted), 60, "orders under way");
        var beforeBackup = created.ToArray();
        var file = Path.Combine(live.DataPath, "backups", "portal-backup.db");
        var (exitCode, output) = await PortalProcess.RunToEndAsync(live.DataPath, new Dictionary<string, string>(), null, "backup", "--to", file);
        Assert.True(exitCode == 0, output);
        Assert.Contains("integrity ok", output);
        await Task.Delay(500);
        await stop.CancelAsync();
        await load;
        Assert.True(created.Count > beforeBackup.Length, "the load went on during the backup");

        // A second backup to the same file is refused: a backup is never overwritten.
        var again = await PortalProcess.RunToEndAsync(live.DataPath, new Dictionary<string, string>(), null, "backup", "--to", file);
        Assert.Equal(1, again.ExitCode);

        // The copy is a sound SQLite file holding every order answered before the backup began.
        await using (var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = file, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            await copy.OpenAsync();
            Assert.Equal("ok", await ScalarAsync(copy, "PRAGMA integrity_check;"));
            Assert.Null(await ScalarAsync(copy, "PRAGMA foreign_key_check;"));
            var ids = new List<long>();
            await using (var command = copy.CreateCommand())
            {
                command.CommandText = "SELECT \"Id\" FROM \"Orders\"";
                await using var reader = await command.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    ids.Add(reader.GetInt64(0));
                }
            }
            Assert.All(beforeBackup, id => Assert.Contains(id, ids));
        }

        // Restore: the database file and the storage folders in a new data folder, then start.
        using var restored = new PortalAppFactory();
        Fast(restored);
        Directory.CreateDirectory(restored.DataPath);
        File.Copy(file, Path.Combine(restored.DataPath, "portal.db"));
        foreach (var folder in new[] { "storage", "cache" })
        {
            CopyFolder(Path.Combine(live.DataPath, folder), Path.Combine(restored.DataPath, folder));
        }
        var restoredUser = await restored.CreateClientForAsync(DemoUsers.User);
        // The engine finishes what the copy caught in flight, as after a crash.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            await using var db = restored.CreateDbContext();
            var unsettled = await db.Orders.Where(o => o.Status == OrderStatus.Pending || o.Status == OrderStatus.Running)
                .Select(o => new { o.Id, o.Status, Jobs = db.SubOrders.Where(s => s.OrderId == o.Id).Select(s => s.JobState.ToString() + " " + s.LeaseOwner).ToList() }).ToListAsync();
            if (unsettled.Count == 0)
            {
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"{unsettled.Count} restored orders still under way: " +
                string.Join("; ", unsettled.Take(5).Select(o => $"{o.Id} {o.Status} [{string.Join(", ", o.Jobs)}]")));
            await Task.Delay(200);
        }

        var problems = await InconsistenciesAsync(restored);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
        await using (var db = restored.CreateDbContext())
        {
            Assert.All(beforeBackup, id => Assert.True(db.Orders.Any(o => o.Id == id && o.Status == OrderStatus.Done), $"order {id} DONE after the restore"));
        }
        // Its files are served: the first order's zip holds all of them.
        var zip = await restoredUser.GetByteArrayAsync($"/api/user/orders/{beforeBackup[0]}/download");
        using var archive = new ZipArchive(new MemoryStream(zip));
        await using (var db = restored.CreateDbContext())
        {
            Assert.Equal(await db.OrderFiles.CountAsync(f => f.OrderId == beforeBackup[0] && f.Tier != StorageTier.External), archive.Entries.Count);
        }
    }

    /// <summary>Each completed order's stored figures against its files (as <c>OrderInvariantsRaceTests</c> checks them).</summary>
    private static async Task<List<string>> InconsistenciesAsync(PortalAppFactory factory)
    {
        var problems = new List<string>();
        await using var db = factory.CreateDbContext();
        var orders = await db.Orders.AsNoTracking().ToListAsync();
        var files = (await db.OrderFiles.AsNoTracking().Select(f => new { f.OrderId, f.SubOrderId, f.State, External = f.Tier == StorageTier.External, f.Size }).ToListAsync()).ToLookup(f => f.OrderId);
        var subOrders = (await db.SubOrders.AsNoTracking().Select(s => new { s.Id, s.OrderId, s.WaitingForUser, s.External }).ToListAsync()).ToLookup(s => s.OrderId);
        foreach (var order in orders.Where(o => o.CompletionDate is not null))
        {
            var mine = files[order.Id].ToList();
            if (mine.Count == 0 || mine.Count != order.FilesCount)
            {
                problems.Add($"order {order.Id}: {mine.Count} files, {order.FilesCount} expected");
            }
            var totalBytes = mine.Sum(f => f.Size);
            var doneBytes = mine.Where(f => f.State != OrderFileState.Pending).Sum(f => f.Size);
            var expected = (
                Available: mine.Count(f => f.State == OrderFileState.Available),
                Zippable: mine.Count(f => f.State == OrderFileState.Available && !f.External),
                InError: mine.Count(f => f.State is OrderFileState.Error or OrderFileState.ProcessingError),
                Percent: totalBytes == 0 ? 100 : (int)(100 * doneBytes / totalBytes));
            var stored = (Available: order.AvailableFilesCount, Zippable: order.ZippableFilesCount, InError: order.FilesInErrorCount, Percent: order.PercentCompleted);
            if (stored != expected)
            {
                problems.Add($"order {order.Id} ({order.Status}): stored {stored}, its files say {expected}");
            }
            if (mine.Any(f => !subOrders[order.Id].Any(s => s.Id == f.SubOrderId)))
            {
                problems.Add($"order {order.Id}: a file of a sub-order of another order, or of none");
            }
            if (order.WaitingForUser != subOrders[order.Id].Any(s => s.WaitingForUser))
            {
                problems.Add($"order {order.Id}: waiting {order.WaitingForUser}, its sub-orders say otherwise");
            }
        }
        return problems;
    }

    private static async Task<string?> ScalarAsync(SqliteConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (await command.ExecuteScalarAsync())?.ToString();
    }

    private static void CopyFolder(string from, string to)
    {
        if (!Directory.Exists(from))
        {
            return;
        }
        foreach (var path in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, path));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(path, target);
        }
    }
}
