using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Orders;

namespace Regards.Portal.Tests.Basket;

/// <summary>
/// Carts of many dated selections (issue 15, L1): a documented maximum answered with a 409, adds that cost the same
/// whatever the cart holds, and unions of hundreds of selections that the database still accepts.
/// </summary>
public abstract class CartSelectionsTests : IDisposable
{
    public sealed class OnSqlite() : CartSelectionsTests(DatabaseProvider.Sqlite);

    /// <summary>The cart's objects are written by one INSERT … SELECT whose SELECT is EF's translation: PostgreSQL's too.</summary>
    public sealed class OnPostgreSql() : CartSelectionsTests(DatabaseProvider.PostgreSql);

    private static readonly string Sentinel = CatalogGenerator.SentinelId;

    private readonly ConcurrentQueue<string> sql = new();
    private readonly PortalAppFactory factory;

    protected CartSelectionsTests(DatabaseProvider provider)
    {
        factory = PortalAppFactory.For(provider);
        factory.Settings["Basket:MaxSelections"] = "40";
        factory.Settings["Seed:DemoObjectsPerDataset"] = "45";
        factory.Settings["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Information";
        factory.ConfigureTestServices = services => services.AddSingleton<ILoggerProvider>(new SqlLog(sql));
    }

    public void Dispose() => factory.Dispose();

    private async Task<List<string>> ObjectIdsAsync(int take)
    {
        await using var db = factory.CreateDbContext();
        return await db.DataObjects.Where(o => o.DatasetId == Sentinel && o.Files.Any()).OrderBy(o => o.Id).Select(o => o.Id).Take(take).ToListAsync();
    }

    /// <summary>Adds the object as its own dated selection; returns the SQL the add ran.</summary>
    private async Task<List<string>> AddOneAsync(HttpClient client, string objectId, HttpStatusCode expected = HttpStatusCode.OK)
    {
        sql.Clear();
        var response = await client.PostAsJsonAsync("/api/order/basket/selection", new { includeIds = new[] { objectId } });
        Assert.Equal(expected, response.StatusCode);
        return [.. sql];
    }

    [Fact]
    public async Task Adding_a_selection_runs_the_same_queries_whatever_the_cart_holds()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var ids = await ObjectIdsAsync(20);
        var second = new List<string>();
        var twentieth = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            // Each object twice over: the earlier selections overlap the later ones.
            var commands = await AddOneAsync(client, ids[i]);
            if (i == 1) second = commands;
            if (i == 19) twentieth = commands;
        }
        // The first add of a dataset creates its selection; from the second on every add is alike.
        Assert.NotEmpty(second);
        Assert.Equal(second.Count, twentieth.Count);
        // Same statements, same size: no query grows with the selections already in the cart (it once ORed all of them).
        Assert.Equal(second.Sum(c => c.Length), twentieth.Sum(c => c.Length), tolerance: 200);

        var basket = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content();
        var selection = basket.GetProperty("datasetSelections")[0];
        Assert.Equal(20, selection.GetProperty("objectsCount").GetInt32());
        Assert.Equal(20, selection.GetProperty("itemsSelections").GetArrayLength());
        await using var db = factory.CreateDbContext();
        var expectedFiles = await db.DataFiles.CountAsync(f => ids.Contains(f.DataObjectId) && SelectionQuery.OrderableTypes.Contains(f.DataType));
        Assert.Equal(expectedFiles, selection.GetProperty("filesCount").GetInt32());
    }

    [Fact]
    public async Task A_cart_holds_a_documented_number_of_selections_and_the_next_add_is_a_409_that_writes_nothing()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Admin);
        var ids = await ObjectIdsAsync(41);
        for (var i = 0; i < 40; i++)
        {
            await AddOneAsync(client, ids[i]);
        }
        sql.Clear();
        var refused = await client.PostAsJsonAsync("/api/order/basket/selection", new { includeIds = new[] { ids[40] } });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("CART_SELECTIONS_LIMIT", problem.GetProperty("code").GetString());
        Assert.Contains("40", problem.GetProperty("detail").GetString());

        var basket = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content();
        Assert.Equal(40, basket.GetProperty("datasetSelections")[0].GetProperty("objectsCount").GetInt32());
        Assert.Equal(40, basket.GetProperty("datasetSelections")[0].GetProperty("itemsSelections").GetArrayLength());

        // The cart at its maximum is still ordered whole: its 40 selections resolve in one query.
        var order = await OrderTestKit.CreateOrderAsync(client, "forty selections");
        var done = await OrderTestKit.WaitForOrderAsync(client, order.Id(), o => o.Status() is "DONE" or "RUNNING" or "FAILED");
        Assert.NotEqual("FAILED", done.Status());
        await using var db = factory.CreateDbContext();
        Assert.Equal(40, await db.OrderFiles.Where(f => f.OrderId == order.Id()).Select(f => f.DataObjectId).Distinct().CountAsync());
        // The objects the cart held served its counts; the order took the cart and, its completion over, the sweep deletes them.
        await factory.Services.GetRequiredService<Regards.Portal.Basket.BasketObjectSweeper>().SweepAsync(CancellationToken.None);
        Assert.Equal(0, await db.BasketObjects.CountAsync(m => db.BasketDatasetSelections.Any(s => s.Id == m.DatasetSelectionId && s.Basket!.OrderId == order.Id())));
    }

    [Fact]
    public async Task The_union_of_the_most_selections_a_cart_may_hold_is_one_query_the_database_accepts()
    {
        var ids = await ObjectIdsAsync(20);
        // Each with a list of ids, a date range and a search: what an order of a full cart resolves at once.
        var requests = Enumerable.Range(0, Regards.Portal.Basket.BasketOptions.MaxSelectionsCeiling).Select(i => new SelectionRequest
        {
            DatasetId = Sentinel, IncludeIds = [ids[i % ids.Count], .. Enumerable.Range(0, 50).Select(n => $"URN:none:{i}:{n}")],
            ExcludeIds = [$"URN:other:{i}"], From = new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc),
        }).ToList();
        await using var db = factory.CreateDbContext();
        Assert.Equal(20, await db.DataObjects.MatchingAny(requests, [Sentinel]).Orderable().CountAsync());
    }

    /// <summary>
    /// A whole dataset of more objects than a bulk write (<see cref="ProviderSql.BulkWriteRows"/>), added right after its
    /// bulk load, then an overlapping add and the order. On PostgreSQL each bulk write leaves its table's planner
    /// statistics current: the add's anti-join, planned on a table the statistics still called empty, once scanned every
    /// row it had inserted for each object (100 000 objects took minutes, a million never ended).
    /// </summary>
    [Fact]
    public async Task A_whole_dataset_added_after_its_bulk_load_leaves_the_statistics_current_and_counts_right()
    {
        const int objects = ProviderSql.BulkWriteRows + 2_000;
        factory.StartKestrel();
        var datasetId = await factory.Services.GetRequiredService<CatalogGenerator>().AddBenchmarkDatasetAsync(objects, 1, 1024, metadataOnly: true);
        await AssertStatisticsAsync("DataObjects", objects);
        await AssertStatisticsAsync("DataFiles", objects);

        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var whole = await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId });
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        await AssertStatisticsAsync("BasketObjects", objects);

        // Overlaps the first: the anti-join path, nothing counted twice.
        var overlapping = await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId, q = "Benchmark object 1" });
        Assert.Equal(HttpStatusCode.OK, overlapping.StatusCode);
        var selection = (await overlapping.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0];
        Assert.Equal(objects, selection.GetProperty("objectsCount").GetInt32());
        Assert.Equal(objects, selection.GetProperty("filesCount").GetInt32());
        Assert.Equal(2, selection.GetProperty("itemsSelections").GetArrayLength());

        var order = await OrderTestKit.CreateOrderAsync(client, "whole dataset");
        // Completed with every file (the generated files have no bytes: staging may fail them next, which is not this test's matter).
        var running = await OrderTestKit.WaitForOrderAsync(client, order.Id(), o => o.Status() is not "PENDING", seconds: 120);
        Assert.Equal(objects, running.GetProperty("filesCount").GetInt32());
        await AssertStatisticsAsync("OrderFiles", objects);
    }

    /// <summary>On PostgreSQL, the planner's row count of <paramref name="table"/> (-1 until an ANALYZE) is at least <paramref name="rows"/>.</summary>
    private async Task AssertStatisticsAsync(string table, int rows)
    {
        if (factory.Provider != DatabaseProvider.PostgreSql)
        {
            return; // SQLite plans without statistics
        }
        await using var db = factory.CreateDbContext();
        var planned = await db.Database.SqlQuery<float>($"SELECT reltuples AS \"Value\" FROM pg_class WHERE relname = {table}").SingleAsync();
        Assert.True(planned >= rows, $"{table}: the planner counts {planned} rows, {rows} were written");
    }

    [Fact]
    public async Task A_cart_written_before_carts_kept_their_objects_counts_right_when_it_changes()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var ids = await ObjectIdsAsync(6);
        await client.PostAsJsonAsync("/api/order/basket/selection", new { includeIds = ids.Take(4) });
        // As the CartObjects migration leaves such a cart: counts written, no object rows.
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal(4, await db.BasketObjects.CountAsync());
            await db.BasketObjects.ExecuteDeleteAsync();
        }
        var response = await client.PostAsJsonAsync("/api/order/basket/selection", new { includeIds = ids.Skip(2) });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var selection = (await response.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0];
        Assert.Equal(6, selection.GetProperty("objectsCount").GetInt32());

        // Removing the first selection keeps the objects the second holds too.
        var first = selection.GetProperty("itemsSelections")[0].GetProperty("date").GetDateTime().ToUniversalTime().ToString("O");
        var removed = await client.DeleteAsync($"/api/order/basket/dataset/{selection.GetProperty("id").GetInt64()}/{Uri.EscapeDataString(first)}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(4, (await removed.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0].GetProperty("objectsCount").GetInt32());
    }

    private sealed class SqlLog(ConcurrentQueue<string> commands) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) =>
            categoryName == "Microsoft.EntityFrameworkCore.Database.Command" ? new Logger(commands) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void Dispose() { }

        private sealed class Logger(ConcurrentQueue<string> commands) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel logLevel) => true;
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                // Executed commands (RelationalEventId.CommandExecuted) on carts and the catalog, without their timing line;
                // the engine's polling of the orders' tables runs meanwhile and is not the add's.
                if (eventId.Id == 20101)
                {
                    var text = formatter(state, exception);
                    var command = text[(text.IndexOf('\n') + 1)..];
                    if (command.Contains("Basket") || command.Contains("DataObjects"))
                    {
                        commands.Enqueue(command);
                    }
                }
            }
        }
    }
}
