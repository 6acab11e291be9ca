using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Regards.Portal.Basket;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Basket;

/// <summary>
/// Issue 18, P3: an order only takes its cart; the objects the cart held are deleted afterwards by
/// <see cref="BasketObjectSweeper"/>, in chunks, once no order's completion is underway, by any instance, any number
/// of times at once, and never those of a current cart.
/// </summary>
public abstract class CartObjectsSweepTests : IDisposable
{
    public sealed class OnSqlite() : CartObjectsSweepTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : CartObjectsSweepTests(DatabaseProvider.PostgreSql);

    private const int Chunk = 6;
    private readonly PortalAppFactory factory;

    protected CartObjectsSweepTests(DatabaseProvider provider)
    {
        factory = PortalAppFactory.For(provider);
        factory.Settings["Seed:DemoObjectsPerDataset"] = "45";
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
        // Many chunks per cart; the periodic pass runs at start only, the tests run the passes they watch.
        factory.Settings["Basket:ObjectSweepChunk"] = Chunk.ToString(System.Globalization.CultureInfo.InvariantCulture);
        factory.Settings["Basket:ObjectSweepPause"] = "00:00:00";
        factory.Settings["Basket:ObjectSweepInterval"] = "1.00:00:00";
    }

    public void Dispose() => factory.Dispose();

    private static readonly Caller Admin = new(DemoUsers.Admin, true);

    private BasketObjectSweeper Sweeper(PortalAppFactory app) => app.Services.GetRequiredService<BasketObjectSweeper>();

    /// <summary>The objects the cart holds, by cart id.</summary>
    private async Task<int> ObjectsOfCartAsync(long basketId)
    {
        await using var db = factory.CreateDbContext();
        return await db.BasketObjects.CountAsync(m => db.BasketDatasetSelections.Any(s => s.Id == m.DatasetSelectionId && s.BasketId == basketId));
    }

    private async Task<long> CurrentCartAsync(string owner)
    {
        await using var db = factory.CreateDbContext();
        return await db.Baskets.Where(b => b.Owner == owner && b.OrderId == null).Select(b => b.Id).SingleAsync();
    }

    private async Task<long> CartOfOrderAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.Where(o => o.Id == orderId).Select(o => o.BasketId!.Value).SingleAsync();
    }

    private static async Task AddAsync(HttpClient client, object selection)
    {
        var response = await client.PostAsJsonAsync("/api/order/basket/selection", selection);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>As the engine leaves an order it completed (for tests that turn the engine off).</summary>
    private async Task MarkCompletedAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        var now = DateTime.UtcNow;
        Assert.Equal(1, await db.Orders.Where(o => o.Id == orderId && o.Status == OrderStatus.Pending).ExecuteUpdateAsync(s => s
            .SetProperty(o => o.Status, OrderStatus.Running).SetProperty(o => o.CompletionDate, now).SetProperty(o => o.Version, o => o.Version + 1)));
    }

    [Fact]
    public async Task An_order_leaves_its_carts_objects_to_the_sweep_which_deletes_every_one_and_never_those_of_current_carts()
    {
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        await FillCartAsync(user, new { datasetId = Sentinel });
        await AddAsync(user, new { datasetId = Swot });
        await FillCartAsync(admin, new { datasetId = Sentinel });
        var ordered = await CurrentCartAsync(DemoUsers.User);
        var someonesCurrent = await CurrentCartAsync(DemoUsers.Admin);
        var held = await ObjectsOfCartAsync(ordered);
        var othersHeld = await ObjectsOfCartAsync(someonesCurrent);
        Assert.True(held > 4 * Chunk, $"the cart holds {held} objects");

        var order = await CreateOrderAsync(user, "sweep");
        // The 201 only handed the cart over.
        Assert.Equal(ordered, await CartOfOrderAsync(order.Id()));
        Assert.Equal(held, await ObjectsOfCartAsync(ordered));
        // The next add starts a new cart, with objects of its own.
        await AddAsync(user, new { datasetId = Sentinel });
        var next = await CurrentCartAsync(DemoUsers.User);
        Assert.NotEqual(ordered, next);
        var nextHeld = await ObjectsOfCartAsync(next);
        Assert.True(nextHeld > 0);

        var completed = await WaitForOrderAsync(user, order.Id(), o => o.Status() != "PENDING");
        Assert.NotEqual("FAILED", completed.Status());
        Assert.Equal(held, await Sweeper(factory).SweepAsync(CancellationToken.None));
        Assert.Equal(0, await ObjectsOfCartAsync(ordered));
        Assert.Equal(othersHeld, await ObjectsOfCartAsync(someonesCurrent));
        Assert.Equal(nextHeld, await ObjectsOfCartAsync(next));
        Assert.Equal(0, await Sweeper(factory).SweepAsync(CancellationToken.None));

        // The current carts still count from their objects: removing a dated selection recounts the rest.
        var cart = (await admin.GetFromJsonAsync<System.Text.Json.JsonElement>("/api/order/basket")).Content();
        Assert.Equal(othersHeld, cart.GetProperty("datasetSelections")[0].GetProperty("objectsCount").GetInt32());
    }

    [Fact]
    public async Task The_sweep_waits_while_an_order_is_completed_and_removing_an_order_takes_its_cart_with_the_objects_left()
    {
        factory.Settings["Orders:EngineEnabled"] = "false"; // orders stay PENDING until marked
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        await FillCartAsync(user, new { datasetId = Sentinel });
        await FillCartAsync(admin, new { datasetId = Swot });
        var first = await CreateOrderAsync(user, "completed later");
        var second = await CreateOrderAsync(admin, "removed before the sweep");
        var firstCart = await CartOfOrderAsync(first.Id());
        var secondCart = await CartOfOrderAsync(second.Id());
        var firstHeld = await ObjectsOfCartAsync(firstCart);
        Assert.True(firstHeld > 0 && await ObjectsOfCartAsync(secondCart) > 0);

        // Both are being completed: nothing is deleted.
        Assert.Equal(0, await Sweeper(factory).SweepAsync(CancellationToken.None));
        Assert.Equal(firstHeld, await ObjectsOfCartAsync(firstCart));
        await MarkCompletedAsync(first.Id());
        Assert.Equal(0, await Sweeper(factory).SweepAsync(CancellationToken.None)); // the second still is
        Assert.Equal(firstHeld, await ObjectsOfCartAsync(firstCart));

        // Cancelled and removed while its cart still holds its objects: they go with the cart.
        var orders = factory.Services.GetRequiredService<OrderService>();
        await orders.CancelAsync(Admin, second.Id());
        await orders.RemoveAsync(Admin, second.Id());
        await using (var db = factory.CreateDbContext())
        {
            Assert.False(await db.Baskets.AnyAsync(b => b.Id == secondCart));
        }
        Assert.Equal(0, await ObjectsOfCartAsync(secondCart));

        // No completion underway any more.
        Assert.Equal(firstHeld, await Sweeper(factory).SweepAsync(CancellationToken.None));
        Assert.Equal(0, await ObjectsOfCartAsync(firstCart));
    }

    [Fact]
    public async Task Two_instances_sweeping_at_once_delete_every_object_once_and_neither_fails()
    {
        factory.Settings["Orders:EngineEnabled"] = "false";
        factory.Settings["Basket:ObjectSweepChunk"] = "3";
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        // Started first: its pass at start (on nothing yet) is over long before the carts below are ordered.
        using var second = factory.SecondInstance();
        _ = second.Services;
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var carts = new List<long>();
        foreach (var (client, label) in new[] { (user, "one"), (admin, "two") })
        {
            await FillCartAsync(client, new { datasetId = Sentinel });
            await AddAsync(client, new { datasetId = Swot });
            var order = await CreateOrderAsync(client, label);
            await MarkCompletedAsync(order.Id());
            carts.Add(await CartOfOrderAsync(order.Id()));
        }
        await AddAsync(admin, new { datasetId = Swot });
        var current = await CurrentCartAsync(DemoUsers.Admin);
        var currentHeld = await ObjectsOfCartAsync(current);
        var held = 0;
        foreach (var cart in carts)
        {
            held += await ObjectsOfCartAsync(cart);
        }

        var sweepers = new[] { Sweeper(factory), Sweeper(second) };
        using var start = new Barrier(sweepers.Length);
        var deleted = await Task.WhenAll(sweepers.Select(s => Task.Run(() =>
        {
            start.SignalAndWait();
            return s.SweepAsync(CancellationToken.None);
        })));

        // Each row deleted by one of them (the other found it gone), all of them deleted.
        Assert.Equal(held, deleted.Sum());
        foreach (var cart in carts)
        {
            Assert.Equal(0, await ObjectsOfCartAsync(cart));
        }
        Assert.Equal(currentHeld, await ObjectsOfCartAsync(current));
    }

    [Fact]
    public async Task A_pass_stalled_midway_is_finished_by_an_instance_started_later_and_then_ends_without_error()
    {
        factory.Settings["Orders:EngineEnabled"] = "false";
        factory.Settings["Basket:ObjectSweepPause"] = "00:00:01";
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        factory.ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock);
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(user, new { datasetId = Sentinel });
        var order = await CreateOrderAsync(user, "stalled");
        await MarkCompletedAsync(order.Id());
        var cart = await CartOfOrderAsync(order.Id());
        var held = await ObjectsOfCartAsync(cart);
        Assert.True(held > 2 * Chunk);

        // The first chunk, then the pass waits on its (fake) clock: as good as stopped.
        var stalled = Sweeper(factory).SweepAsync(CancellationToken.None);
        await WaitAsync(async () => await ObjectsOfCartAsync(cart) == held - Chunk, what: "the first chunk");
        Assert.False(stalled.IsCompleted);

        // Another instance, started now: its pass at start finds what is left in the database.
        using var later = factory.SecondInstance();
        later.Settings["Basket:ObjectSweepPause"] = "00:00:00";
        _ = later.Services;
        await WaitAsync(async () => await ObjectsOfCartAsync(cart) == 0, what: "the later instance's pass");

        // The stalled pass goes on, finds nothing left and ends normally.
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(Chunk, await stalled.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, await ObjectsOfCartAsync(cart));
    }
}
