using System.Data.Common;
using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Regards.Portal.Data;
using Regards.Portal.Notifications;
using Regards.Portal.Orders;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>
/// Data migrations run on real databases holding rows written at an earlier migration: SQLite files at every migration
/// of its set, and PostgreSQL databases at every migration of its own set (which starts later, at an Initial made from
/// the model of its day, so its rows never needed the older repairs). The rows are written with raw SQL into the columns
/// that the table has at that schema (today's entities do not fit older schemas).
/// </summary>
public abstract class MigrationDataTests : IDisposable
{
    public sealed partial class OnSqlite() : MigrationDataTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : MigrationDataTests(DatabaseProvider.PostgreSql);

    private readonly DatabaseProvider provider;
    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", $"migrations-{Guid.NewGuid():N}");
    private readonly List<TestDatabase> stores = [];

    protected MigrationDataTests(DatabaseProvider provider)
    {
        this.provider = provider;
        Directory.CreateDirectory(folder);
    }

    /// <summary>A new empty database: a SQLite file in the test's folder, or a database on the PostgreSQL cluster.</summary>
    private TestDatabase StoreFor(string name)
    {
        var path = Path.Combine(folder, name);
        Directory.CreateDirectory(path);
        var store = TestDatabase.Create(provider, path, "migrations");
        stores.Add(store);
        return store;
    }

    private static PortalDbContext Open(TestDatabase store) => store.Open();

    /// <summary>A plain connection to the store, for raw rows (SQLite: foreign keys on, as EF turns them on).</summary>
    private static DbConnection Connect(TestDatabase store) => store.Provider == DatabaseProvider.Sqlite
        ? new SqliteConnection($"{store.ConnectionString};Foreign Keys=True;Pooling=False")
        : new NpgsqlConnection(store.ConnectionString);

    public void Dispose()
    {
        foreach (var store in stores)
        {
            store.Dispose();
        }
        SqliteConnection.ClearAllPools();
        Directory.Delete(folder, recursive: true);
    }

    private List<string> Migrations()
    {
        // Listing the migrations connects to nothing.
        using PortalDbContext db = provider == DatabaseProvider.Sqlite
            ? new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite("Data Source=:memory:").Options)
            : new PostgreSqlPortalDbContext(new DbContextOptionsBuilder<PostgreSqlPortalDbContext>().UseNpgsql("Host=nowhere;Database=none").Options);
        return db.Database.GetMigrations().ToList();
    }

    /// <summary>The index of a migration; 0 when the provider's set starts after it (PostgreSQL's never had it).</summary>
    private int IndexOf(List<string> migrations, string name)
    {
        var index = migrations.FindIndex(m => m.EndsWith("_" + name, StringComparison.Ordinal));
        if (index < 0 && provider != DatabaseProvider.Sqlite)
        {
            return 0;
        }
        Assert.True(index > 0, $"No migration {name}");
        return index;
    }

    private static async Task MigrateToAsync(TestDatabase store, string migration)
    {
        await using var db = Open(store);
        await db.GetService<IMigrator>().MigrateAsync(migration);
    }

    // ---- Rows, as the tables hold them: enums by name, dates as SQLite text (typed for PostgreSQL's columns). ----

    private const string Owner = "user@regards.local";
    private const string Day = "2026-11-20 10:00:00";

    private sealed record SeedFile(string State, string Tier, long Size);

    private sealed record SeedOrder(string Label, string Status, bool Completed, bool Waiting, params SeedFile[] Files)
    {
        /// <summary>The orders that <c>OrderProgress.RecomputeAsync</c> recomputes; the others keep their counters.</summary>
        public bool Recomputed => Completed && Status is not ("Expired" or "Deleted" or "Error");

        public bool Final => Status is "Expired" or "Deleted" or "Failed" or "Error";
    }

    private sealed record Counters(int Available, int Zippable, int InError, int Percent)
    {
        public static readonly Counters Junk = new(77, 77, 77, 77);

        public static Counters Of(Order o) => new(o.AvailableFilesCount, o.ZippableFilesCount, o.FilesInErrorCount, o.PercentCompleted);
    }

    private static SeedFile F(string state, string tier, long size) => new(state, tier, size);

    /// <summary>One order per status, files in every state and tier, an order of links without bytes.</summary>
    private static readonly SeedOrder[] Seed =
    [
        new("pending", "Pending", Completed: false, Waiting: false),
        new("running", "Running", true, true,
            F("Pending", "Nearline", 100), F("Available", "Online", 200), F("Available", "External", 50), F("Downloaded", "Online", 300),
            F("Error", "Nearline", 10), F("ProcessingError", "Online", 5), F("DownloadError", "Online", 20)),
        new("paused", "Paused", true, false, F("Pending", "Nearline", 400), F("Available", "Nearline", 100)),
        new("done", "Done", true, true, F("Available", "Online", 10), F("Available", "Online", 20), F("Available", "External", 30), F("Downloaded", "Online", 40)),
        new("links", "Done", true, false, F("Available", "External", 0)),
        new("warning", "DoneWithWarning", true, true, F("Available", "Online", 10), F("Error", "Online", 10), F("Downloaded", "Nearline", 10)),
        new("failed", "Failed", true, false, F("Error", "Online", 7), F("ProcessingError", "Online", 3)),
        new("expired", "Expired", true, false),
        new("deleted", "Deleted", true, false, F("Available", "Online", 10)),
        new("error", "Error", true, false, F("Available", "Online", 10), F("Pending", "Online", 10)),
    ];

    /// <summary>The counters by hand, as orders.md defines them and <c>OrderProgress.RecomputeAsync</c> computes them.</summary>
    private static readonly Dictionary<string, Counters> Expected = new()
    {
        ["running"] = new(2, 1, 2, 85), // 585 of 685 bytes no longer pending: 85.4 %
        ["paused"] = new(1, 1, 0, 20),
        ["done"] = new(3, 2, 0, 100),
        ["links"] = new(1, 0, 0, 100), // no bytes at all: 100
        ["warning"] = new(1, 1, 1, 100),
        ["failed"] = new(0, 0, 2, 100),
    };

    /// <summary>
    /// Inserts a row with the columns the table has at the file's current schema; a value for a column that does not
    /// exist yet is left out (its migration gives the default). A NOT NULL column without default that the row does
    /// not fill fails the test: the seed needs a value for it.
    /// </summary>
    private sealed class RawRows(DbConnection connection, DbTransaction? transaction)
    {
        private readonly Dictionary<string, List<(string Name, bool Required, string Type)>> columns = [];

        private bool Sqlite => connection is SqliteConnection;

        public Dictionary<string, HashSet<string>> Used { get; } = [];

        public List<(string Name, bool Required, string Type)> Columns(string table)
        {
            if (!columns.TryGetValue(table, out var list))
            {
                using var query = connection.CreateCommand();
                query.Transaction = transaction;
                // Name, NOT NULL without a default (nor generated: SQLite's rowid key, PostgreSQL's identity), type.
                query.CommandText = Sqlite
                    ? $"SELECT name, \"notnull\" = 1 AND dflt_value IS NULL AND pk = 0, type FROM pragma_table_info('{table}')"
                    : $"SELECT column_name::text, is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO', data_type::text " +
                      $"FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = '{table}' ORDER BY ordinal_position";
                using var reader = query.ExecuteReader();
                list = [];
                while (reader.Read())
                {
                    list.Add((reader.GetString(0), Convert.ToBoolean(reader.GetValue(1), CultureInfo.InvariantCulture), reader.GetString(2)));
                }
                Assert.True(list.Count > 0, $"No table {table} at this schema");
                columns[table] = list;
            }
            return list;
        }

        /// <summary>The seed's values are SQLite's (text dates and ids); PostgreSQL's typed columns take them parsed.</summary>
        private object Typed(object? value, string type) => (value, type) switch
        {
            (null, _) => DBNull.Value,
            (string text, "uuid") when !Sqlite => Guid.Parse(text),
            (string text, "timestamp with time zone") when !Sqlite =>
                DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => value,
        };

        public long Insert(string table, Dictionary<string, object?> row)
        {
            var existing = Columns(table);
            var missing = existing.Where(c => c.Required && !row.ContainsKey(c.Name)).Select(c => c.Name).ToList();
            Assert.True(missing.Count == 0, $"{table} requires {string.Join(", ", missing)} at this schema: give the seed a value.");
            (Used.TryGetValue(table, out var used) ? used : Used[table] = []).UnionWith(row.Keys);
            var present = row.Where(kv => existing.Any(c => c.Name == kv.Key)).ToList();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", present.Select(kv => $"\"{kv.Key}\""))}) " +
                $"VALUES ({string.Join(", ", present.Select((_, i) => $"@p{i}"))}) " +
                (Sqlite ? "; SELECT last_insert_rowid();" : "RETURNING \"Id\"");
            for (var i = 0; i < present.Count; i++)
            {
                var parameter = insert.CreateParameter();
                parameter.ParameterName = $"@p{i}";
                parameter.Value = Typed(present[i].Value, existing.Single(c => c.Name == present[i].Key).Type);
                insert.Parameters.Add(parameter);
            }
            return Convert.ToInt64(insert.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        public void Execute(string sql)
        {
            using var command = connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            command.ExecuteNonQuery();
        }

        public bool Has(string table, string column) => Columns(table).Any(c => c.Name == column);
    }

    private sealed record Seeded(Dictionary<string, long> OrderIds, Dictionary<string, long> BasketIds, Dictionary<string, Counters> Written, long? TwinId, long CartId, Dictionary<string, HashSet<string>> Used);

    /// <param name="staleCounters">Counters as the faulty backfill and earlier drift left them (before the repair); else the true ones.</param>
    /// <param name="finalsWaiting">Final orders still "waiting for the user", as before FinalOrdersWaitForNoOne.</param>
    /// <param name="twin">A second order of the "done" order's cart, as the race left them (before OneOrderPerBasket).</param>
    private static Seeded SeedRows(TestDatabase store, bool staleCounters, bool finalsWaiting, bool twin)
    {
        using var connection = Connect(store);
        connection.Open();
        // One transaction: a commit per row would cost a disk sync each.
        using var transaction = connection.BeginTransaction();
        var rows = new RawRows(connection, transaction);
        var orderIds = new Dictionary<string, long>();
        var basketIds = new Dictionary<string, long>();
        var written = new Dictionary<string, Counters>();

        long InsertOrder(SeedOrder seed, long basketId, string label)
        {
            var counters = seed.Recomputed && !staleCounters ? Expected[seed.Label] : Counters.Junk;
            var orderId = rows.Insert("Orders", new()
            {
                ["Owner"] = Owner, ["Label"] = label, ["CreationDate"] = Day, ["Status"] = seed.Status, ["StatusDate"] = Day,
                ["ExpirationDate"] = "2026-12-20 10:00:00", ["PercentCompleted"] = counters.Percent, ["FilesInErrorCount"] = counters.InError,
                ["AvailableFilesCount"] = counters.Available, ["ZippableFilesCount"] = counters.Zippable,
                ["WaitingForUser"] = seed.Waiting || (seed.Final && finalsWaiting), ["TotalSize"] = seed.Files.Sum(f => f.Size),
                ["ObjectsCount"] = seed.Files.Length, ["FilesCount"] = seed.Files.Length, ["Message"] = null, ["IsApplicationOrder"] = false,
                ["BasketId"] = basketId, ["CompletionDate"] = seed.Completed ? Day : null, ["ExpiryWarningSent"] = false,
                ["LeaseOwner"] = null, ["LeaseExpiresAt"] = null, ["Version"] = 3, ["CompletionAttempts"] = 1,
            });
            written[label] = new Counters(
                counters.Available, rows.Has("Orders", "ZippableFilesCount") ? counters.Zippable : 0, counters.InError, counters.Percent);
            rows.Execute($"UPDATE \"Baskets\" SET \"OrderId\" = {orderId} WHERE \"Id\" = {basketId}");
            var taskId = rows.Insert("DatasetTasks", new()
            {
                ["OrderId"] = orderId, ["DatasetId"] = "URN:DATASET:SWOT", ["DatasetLabel"] = "SWOT",
                ["SelectionRequests"] = """[{"datasetId":"URN:DATASET:SWOT","q":"orbit 7"}]""", ["FileFilter"] = null, ["Processing"] = null,
                ["ObjectsCount"] = seed.Files.Length, ["FilesCount"] = seed.Files.Length, ["FilesSize"] = seed.Files.Sum(f => f.Size),
            });
            var subOrderId = rows.Insert("SubOrders", new()
            {
                ["OrderId"] = orderId, ["Owner"] = Owner, ["DatasetTaskId"] = taskId, ["Sequence"] = 1, ["External"] = false,
                ["Ended"] = false, ["WaitingForUser"] = seed.Waiting || (seed.Final && finalsWaiting), ["JobState"] = "Staged", ["Priority"] = 0,
                ["QueuedAt"] = Day, ["StagingStartedAt"] = Day, ["StagedAt"] = Day, ["LeaseOwner"] = null, ["LeaseExpiresAt"] = null,
                ["Attempts"] = 1, ["Version"] = 2,
            });
            foreach (var (f, i) in seed.Files.Select((f, i) => (f, i)))
            {
                rows.Insert("OrderFiles", new()
                {
                    ["PublicId"] = Guid.NewGuid().ToString().ToUpperInvariant(), ["OrderId"] = orderId, ["SubOrderId"] = subOrderId,
                    ["DatasetTaskId"] = taskId, ["DataObjectId"] = $"URN:OBJ:{label}:{i}", ["ProviderId"] = $"{label}-{i}", ["Name"] = $"{label}-{i}.nc",
                    ["Size"] = f.Size, ["MimeType"] = "application/x-netcdf", ["Checksum"] = null, ["Md5"] = null, ["DataType"] = "RawData",
                    ["Tier"] = f.Tier, ["Location"] = $"swot/{label}-{i}.nc", ["State"] = f.State,
                    ["DownloadError"] = f.State == "DownloadError" ? "cut" : null, ["DownloadedAt"] = f.State == "Downloaded" ? Day : null, ["Version"] = 1,
                });
            }
            return orderId;
        }

        long InsertCart(long? orderId, int selections)
        {
            var basketId = rows.Insert("Baskets", new() { ["Owner"] = Owner, ["OrderId"] = orderId });
            for (var s = 0; s < selections; s++)
            {
                var selectionId = rows.Insert("BasketDatasetSelections", new()
                {
                    ["BasketId"] = basketId, ["DatasetId"] = $"URN:DATASET:{s}", ["DatasetLabel"] = $"Dataset {s}", ["ObjectsCount"] = 2,
                    ["FilesCount"] = 3, ["FilesSize"] = 300, ["Quota"] = 0,
                    ["FileFilter"] = s == 1 ? """{"fileTypes":["RAWDATA"],"fileNamePattern":"*.nc"}""" : null, ["Processing"] = null,
                });
                rows.Insert("BasketItemSelections", new()
                {
                    ["DatasetSelectionId"] = selectionId, ["Date"] = Day, ["Request"] = $$"""{"datasetId":"URN:DATASET:{{s}}","q":"orbit {{s}}"}""",
                    ["ObjectsCount"] = 2, ["FilesCount"] = 3, ["FilesSize"] = 300, ["Quota"] = 0,
                });
            }
            return basketId;
        }

        foreach (var seed in Seed)
        {
            // Each order has its own cart, detached (a restart copies it).
            var basketId = InsertCart(orderId: null, selections: 1);
            basketIds[seed.Label] = basketId;
            orderIds[seed.Label] = InsertOrder(seed, basketId, seed.Label);
        }
        long? twinId = null;
        if (twin)
        {
            twinId = InsertOrder(Seed.Single(s => s.Label == "done"), basketIds["done"], "done-twin");
        }
        var cartId = InsertCart(orderId: null, selections: 2);
        transaction.Commit();
        return new Seeded(orderIds, basketIds, written, twinId, cartId, rows.Used);
    }

    // ---- The running code, as oracle of the counters. ----

    private sealed class StoreContextFactory(TestDatabase store) : IDbContextFactory<PortalDbContext>
    {
        public PortalDbContext CreateDbContext() => Open(store);
    }

    /// <summary>Queues no mail (recomputing may announce available files).</summary>
    public class NoMail : DispatchProxy
    {
        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.ReturnType == typeof(Task) ? Task.CompletedTask : null;
    }

    /// <summary>Each order's counters as <c>OrderProgress.RecomputeAsync</c> computes them from its files (it writes them).</summary>
    private static async Task<Dictionary<long, Counters>> RecomputedByTheRunningCodeAsync(TestDatabase store, IEnumerable<long> orderIds)
    {
        await using var services = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IDbContextFactory<PortalDbContext>>(new StoreContextFactory(store))
            .AddSingleton(TimeProvider.System)
            .AddSingleton<Regards.Portal.Cluster.ChangeFeed>()
            .AddSingleton<OrderChangeNotifier>()
            .AddSingleton<EngineSignal>()
            .AddSingleton(DispatchProxy.Create<IOrderMailer, NoMail>())
            .BuildServiceProvider();
        var progress = ActivatorUtilities.CreateInstance<OrderProgress>(services);
        var result = new Dictionary<long, Counters>();
        foreach (var id in orderIds)
        {
            var order = await progress.RecomputeAsync(id);
            result[id] = Counters.Of(order!);
        }
        return result;
    }

    // ---- Tests ----

    [Fact]
    public async Task Rows_written_at_every_migration_survive_every_later_one_with_consistent_counters()
    {
        var migrations = Migrations();
        var repair = IndexOf(migrations, "RecomputeOrderCountersFromFiles");
        var finalsFixed = IndexOf(migrations, "FinalOrdersWaitForNoOne");
        var oneOrderPerCart = IndexOf(migrations, "OneOrderPerBasket");
        string? latestColumnsChecked = null;

        for (var at = 0; at < migrations.Count; at++)
        {
            var migration = migrations[at];
            var store = StoreFor($"{at:00}");
            await MigrateToAsync(store, migration);
            var seeded = SeedRows(store, staleCounters: at < repair, finalsWaiting: at < finalsFixed, twin: at < oneOrderPerCart);
            if (at >= oneOrderPerCart)
            {
                // The race's twin cannot be written any more.
                using var connection = Connect(store);
                connection.Open();
                var twin = new RawRows(connection, null);
                var refused = Assert.ThrowsAny<DbException>(() => twin.Insert("Orders", new()
                {
                    ["Owner"] = Owner, ["Label"] = "twin", ["CreationDate"] = Day, ["Status"] = "Pending", ["StatusDate"] = Day,
                    ["PercentCompleted"] = 0, ["FilesInErrorCount"] = 0, ["AvailableFilesCount"] = 0, ["ZippableFilesCount"] = 0,
                    ["WaitingForUser"] = false, ["TotalSize"] = 0, ["ObjectsCount"] = 0, ["FilesCount"] = 0, ["IsApplicationOrder"] = false,
                    ["BasketId"] = seeded.BasketIds["done"], ["ExpiryWarningSent"] = false, ["Version"] = 0, ["CompletionAttempts"] = 0,
                }));
                Assert.Contains(TestDatabase.UniqueViolation(provider, "Orders", "BasketId"), refused.Message);
            }
            await using (var db = Open(store))
            {
                await db.Database.MigrateAsync();
                Assert.Empty(await db.Database.GetPendingMigrationsAsync());
            }
            var because = $"rows written at {migration}";
            await using (var db = Open(store))
            {
                if (latestColumnsChecked is null)
                {
                    // Every column the seed names exists at the latest schema (a misspelt name would be skipped silently).
                    using var connection = Connect(store);
                    connection.Open();
                    var schema = new RawRows(connection, null);
                    foreach (var (table, used) in seeded.Used)
                    {
                        Assert.Empty(used.Except(schema.Columns(table).Select(c => c.Name)));
                    }
                    latestColumnsChecked = migration;
                }

                // No order lost, each still with its status, task, sub-order and files in their states.
                var orders = await db.Orders.AsNoTracking().Include(o => o.DatasetTasks).ToListAsync();
                Assert.Equal(Seed.Length + (seeded.TwinId is null ? 0 : 1), orders.Count);
                foreach (var seed in Seed)
                {
                    var order = orders.Single(o => o.Id == seeded.OrderIds[seed.Label]);
                    Assert.Equal(seed.Label, order.Label);
                    Assert.Equal(seed.Status, order.Status.ToString());
                    Assert.Equal("orbit 7", Assert.Single(Assert.Single(order.DatasetTasks).SelectionRequests).Q);
                    var files = await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == order.Id).OrderBy(f => f.Id).ToListAsync();
                    Assert.Equal(seed.Files.Select(f => (f.State, f.Tier, f.Size)), files.Select(f => (f.State.ToString(), f.Tier.ToString(), f.Size)));
                    var subOrder = await db.SubOrders.AsNoTracking().SingleAsync(s => s.OrderId == order.Id);
                    Assert.Equal(SubOrderJobState.Staged, subOrder.JobState);

                    // A final order waits for no one; a live one keeps its flag.
                    Assert.True(seed.Final ? !order.WaitingForUser : order.WaitingForUser == seed.Waiting, $"{seed.Label} waiting, {because}");
                    Assert.True(seed.Final ? !subOrder.WaitingForUser : subOrder.WaitingForUser == seed.Waiting, $"{seed.Label} sub-order waiting, {because}");

                    // Counters: what the files say for the orders the running code recomputes, untouched for the others.
                    var counters = Counters.Of(order);
                    Assert.True(
                        (seed.Recomputed ? Expected[seed.Label] : seeded.Written[seed.Label]) == counters,
                        $"{seed.Label}: {counters}, {because}");

                    // Its cart is still its own.
                    Assert.Equal(seeded.BasketIds[seed.Label], order.BasketId);
                    var basket = await db.Baskets.AsNoTracking().Include(b => b.DatasetSelections).ThenInclude(s => s.ItemSelections).SingleAsync(b => b.Id == order.BasketId);
                    Assert.Equal(order.Id, basket.OrderId);
                    Assert.Equal("orbit 0", Assert.Single(Assert.Single(basket.DatasetSelections).ItemSelections).Request.Q);
                }

                // The race's twin keeps its rows but no longer claims the cart; the oldest order does.
                if (seeded.TwinId is { } twinId)
                {
                    var twin = orders.Single(o => o.Id == twinId);
                    Assert.Null(twin.BasketId);
                    Assert.Equal(Seed.Single(s => s.Label == "done").Files.Length, await db.OrderFiles.CountAsync(f => f.OrderId == twinId));
                }
                Assert.All(orders.Where(o => o.BasketId != null).GroupBy(o => o.BasketId), g => Assert.Single(g));

                // The user's current cart, with its selections, filter and requests readable by today's code.
                var cart = await db.Baskets.AsNoTracking().Include(b => b.DatasetSelections).ThenInclude(s => s.ItemSelections)
                    .SingleAsync(b => b.Owner == Owner && b.OrderId == null);
                Assert.Equal(seeded.CartId, cart.Id);
                Assert.Equal(["orbit 0", "orbit 1"], cart.DatasetSelections.OrderBy(s => s.Id).Select(s => Assert.Single(s.ItemSelections).Request.Q));
                Assert.Equal("*.nc", cart.DatasetSelections.OrderBy(s => s.Id).Last().FileFilter?.FileNamePattern);
                Assert.All(cart.DatasetSelections, s => Assert.Equal(0, s.Quota));
            }

            // And the counters are what today's OrderProgress computes from the files.
            var stored = new Dictionary<long, Counters>();
            await using (var db = Open(store))
            {
                foreach (var order in await db.Orders.AsNoTracking().ToListAsync())
                {
                    stored[order.Id] = Counters.Of(order);
                }
            }
            var recomputed = await RecomputedByTheRunningCodeAsync(store, Seed.Where(s => s.Recomputed).Select(s => seeded.OrderIds[s.Label]));
            Assert.All(recomputed, r => Assert.True(r.Value == stored[r.Key], $"order {r.Key}: stored {stored[r.Key]}, running code {r.Value}, {because}"));
        }
        Assert.NotNull(latestColumnsChecked);
    }

    /// <summary>SQLite's set has data migrations (repairs of rows written by earlier versions) that PostgreSQL's set,
    /// made from a later model, never needed.</summary>
    public sealed partial class OnSqlite
    {
        [Fact]
        public async Task The_repair_gives_back_the_zip_button_and_recomputes_every_counter_from_the_files()
        {
            var migrations = Migrations();
            var faulty = IndexOf(migrations, "ZippableFilesCount");
            var repair = IndexOf(migrations, "RecomputeOrderCountersFromFiles");
            var store = StoreFor("repair");

            // Orders placed before the zippable counter existed, their other counters drifted.
            await MigrateToAsync(store, migrations[faulty - 1]);
            var seeded = SeedRows(store, staleCounters: true, finalsWaiting: false, twin: false);
            await MigrateToAsync(store, migrations[repair - 1]);
            await using (var db = Open(store))
            {
                // What the faulty backfill left: no zip button even where the zip has files.
                Assert.Equal(0, await db.Orders.Where(o => o.Id == seeded.OrderIds["done"]).Select(o => o.ZippableFilesCount).SingleAsync());
            }

            // The repair and whatever came after it: today's entities read the rows.
            await MigrateToAsync(store, migrations[^1]);
            await using (var db = Open(store))
            {
                var orders = await db.Orders.AsNoTracking().ToDictionaryAsync(o => o.Label);
                foreach (var seed in Seed)
                {
                    var expected = seed.Recomputed ? Expected[seed.Label] : seeded.Written[seed.Label];
                    Assert.True(expected == Counters.Of(orders[seed.Label]), $"{seed.Label}: expected {expected}, got {Counters.Of(orders[seed.Label])}");
                }
                // The DONE orders offer the zip again (OrderStateMachine: Download needs a zippable file).
                Assert.Contains(OrderAction.Download, OrderStateMachine.AllowedActions(orders["done"], callerIsAdmin: false));
                Assert.DoesNotContain(OrderAction.Download, OrderStateMachine.AllowedActions(orders["links"], callerIsAdmin: false));
            }

            var recomputed = await RecomputedByTheRunningCodeAsync(store, Seed.Where(s => s.Recomputed).Select(s => seeded.OrderIds[s.Label]));
            foreach (var seed in Seed.Where(s => s.Recomputed))
            {
                Assert.Equal(Expected[seed.Label], recomputed[seeded.OrderIds[seed.Label]]);
            }
        }

        [Fact]
        public async Task Final_orders_stop_waiting_for_the_user_and_live_ones_keep_waiting()
        {
            var migrations = Migrations();
            var fix = IndexOf(migrations, "FinalOrdersWaitForNoOne");
            var store = StoreFor("final");
            await MigrateToAsync(store, migrations[fix - 1]);
            // As the faulty delete left them: DELETED (and other final orders), yet waiting, with a sub-order still waiting.
            var seeded = SeedRows(store, staleCounters: false, finalsWaiting: true, twin: false);

            await MigrateToAsync(store, migrations[fix]);
            await using var db = Open(store);
            foreach (var seed in Seed)
            {
                var id = seeded.OrderIds[seed.Label];
                var waiting = !seed.Final && seed.Waiting;
                Assert.Equal(waiting, await db.Orders.Where(o => o.Id == id).Select(o => o.WaitingForUser).SingleAsync());
                // A live order's flag is the truth about its files: untouched.
                Assert.Equal(waiting, await db.SubOrders.Where(s => s.OrderId == id).Select(s => s.WaitingForUser).SingleAsync());
            }
            Assert.True(await db.Orders.AnyAsync(o => o.WaitingForUser));
        }
    }
}
