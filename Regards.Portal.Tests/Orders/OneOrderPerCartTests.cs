using System.Collections.Concurrent;
using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Orders;

/// <summary>The database itself refuses a second order of one cart (unique index on Orders.BasketId), on each provider.</summary>
public abstract class OneOrderPerCartConstraintTests : IDisposable
{
    public sealed class OnSqlite() : OneOrderPerCartConstraintTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : OneOrderPerCartConstraintTests(DatabaseProvider.PostgreSql);

    private readonly string folder = Path.Combine(Path.GetTempPath(), "regards-tests", $"one-order-per-cart-{Guid.NewGuid():N}");
    private readonly TestDatabase database;

    protected OneOrderPerCartConstraintTests(DatabaseProvider provider)
    {
        Directory.CreateDirectory(folder);
        database = TestDatabase.Create(provider, folder, nameof(OneOrderPerCartConstraintTests));
    }

    private PortalDbContext Open() => database.Open();

    public void Dispose()
    {
        database.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private static Order NewOrder(string label, long? basketId) =>
        new() { Owner = "a@x", Label = label, BasketId = basketId, CreationDate = DateTime.UtcNow, StatusDate = DateTime.UtcNow };

    [Fact]
    public async Task A_second_order_of_one_cart_is_refused_by_the_database_while_orders_without_a_cart_are_not()
    {
        await using (var db = Open())
        {
            await db.Database.MigrateAsync();
            db.Orders.AddRange(NewOrder("first", 42), NewOrder("no-cart-1", null), NewOrder("no-cart-2", null));
            await db.SaveChangesAsync();
        }
        await using (var db = Open())
        {
            db.Orders.Add(NewOrder("second", 42));
            var refused = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            Assert.Contains(TestDatabase.UniqueViolation(database.Provider, "Orders", "BasketId"), refused.InnerException?.Message);
        }
        await using (var db = Open())
        {
            Assert.Equal(["first"], await db.Orders.Where(o => o.BasketId == 42).Select(o => o.Label).ToListAsync());
            Assert.Equal(2, await db.Orders.CountAsync(o => o.BasketId == null));
        }
    }
}

/// <summary>
/// Holds the label checks of two orders of the same cart until both have arrived: both requests have then read the
/// cart as not ordered yet, and both go on to write their order. Records the commands the database refused.
/// </summary>
public sealed class CartRaceGate : DbCommandInterceptor
{
    public const string LabelPrefix = "race-";

    private readonly TaskCompletionSource bothArrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int arrived;

    public int Arrived => Volatile.Read(ref arrived);

    public ConcurrentQueue<string> Refusals { get; } = new();

    public override async ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData eventData, InterceptionResult<DbDataReader> result, CancellationToken cancellationToken = default)
    {
        var labelCheck = command.CommandText.TrimStart().StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            && command.Parameters.Cast<DbParameter>().Any(p => p.Value is string s && s.StartsWith(LabelPrefix, StringComparison.Ordinal));
        if (labelCheck)
        {
            if (Interlocked.Increment(ref arrived) >= 2)
            {
                bothArrived.TrySetResult();
            }
            await bothArrived.Task.WaitAsync(TimeSpan.FromSeconds(15), cancellationToken);
        }
        return result;
    }

    public override Task CommandFailedAsync(DbCommand command, CommandErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Refusals.Enqueue(eventData.Exception.Message);
        return Task.CompletedTask;
    }
}

public class CartRaceFactory : PortalAppFactory
{
    public CartRaceGate Gate { get; } = new();

    public CartRaceFactory() : this(DatabaseProvider.Sqlite)
    {
    }

    protected CartRaceFactory(DatabaseProvider provider) : base(provider) =>
        ConfigureTestServices = provider == DatabaseProvider.Sqlite
            ? services => services.ConfigureDbContext<SqlitePortalDbContext>(o => o.AddInterceptors(Gate))
            : services => services.ConfigureDbContext<PostgreSqlPortalDbContext>(o => o.AddInterceptors(Gate));

    public sealed class OnPostgreSql() : CartRaceFactory(DatabaseProvider.PostgreSql);
}

/// <summary>The race that the unique index closes, made deterministic, through the real HTTP pipeline, on each provider.</summary>
public abstract class CartOrderRaceTests(CartRaceFactory factory)
{
    public sealed class OnSqlite(CartRaceFactory factory) : CartOrderRaceTests(factory), IClassFixture<CartRaceFactory>;

    public sealed class OnPostgreSql(CartRaceFactory.OnPostgreSql factory) : CartOrderRaceTests(factory), IClassFixture<CartRaceFactory.OnPostgreSql>;

    [Fact]
    public async Task Two_orders_of_one_cart_past_every_check_at_once_give_one_order_and_a_409_CART_ALREADY_ORDERED()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
        long basketId;
        await using (var db = factory.CreateDbContext())
        {
            basketId = await db.Baskets.Where(b => b.Owner == DemoUsers.Guest && b.OrderId == null).Select(b => b.Id).SingleAsync();
        }

        var answers = await Task.WhenAll(
            client.PostAsJsonAsync("/api/user/orders", new { label = CartRaceGate.LabelPrefix + "1" }),
            client.PostAsJsonAsync("/api/user/orders", new { label = CartRaceGate.LabelPrefix + "2" }));

        Assert.Equal(2, factory.Gate.Arrived); // both read the cart as free before either wrote
        Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        var refused = answers.Single(a => a.StatusCode == HttpStatusCode.Conflict);
        Assert.Equal("CART_ALREADY_ORDERED", (await refused.Content.ReadFromJsonAsync<JsonElement>()).Code());
        // The second order was stopped by the database's index, not only by the cart update after it.
        Assert.Contains(factory.Gate.Refusals, m => m.Contains(TestDatabase.UniqueViolation(factory.Provider, "Orders", "BasketId"), StringComparison.Ordinal));
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal(1, await db.Orders.CountAsync(o => o.BasketId == basketId));
            Assert.Equal(1, await db.Orders.CountAsync(o => o.Owner == DemoUsers.Guest && o.Label.StartsWith(CartRaceGate.LabelPrefix)));
        }
    }
}
