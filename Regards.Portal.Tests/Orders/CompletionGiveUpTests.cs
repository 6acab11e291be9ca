using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Orders;

namespace Regards.Portal.Tests.Orders;

/// <summary>A completion that keeps being claimed and never finishes ends in ERROR instead of being retried for ever.</summary>
public sealed class CompletionGiveUpTests(OrderPagesFactory factory) : IClassFixture<OrderPagesFactory>
{
    private async Task<long> PendingOrderAsync(int attempts)
    {
        var now = DateTime.UtcNow;
        await using var db = factory.CreateDbContext();
        var order = new Order
        {
            Owner = OrderPagesFactory.NewOwner(), Label = $"attempts {attempts}", CreationDate = now, Status = OrderStatus.Pending, StatusDate = now,
            CompletionAttempts = attempts, LeaseOwner = "a-dead-instance", LeaseExpiresAt = now.AddMinutes(-1),
        };
        db.Orders.Add(order);
        await db.SaveChangesAsync();
        return order.Id;
    }

    private async Task<Order> RowAsync(long id)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.AsNoTracking().SingleAsync(o => o.Id == id);
    }

    [Fact]
    public async Task Each_claim_counts_and_the_claim_after_the_last_attempt_gives_the_order_up_as_error()
    {
        var engine = factory.Services.GetRequiredService<OrderEngine>();
        var id = await PendingOrderAsync(Order.MaxCompletionAttempts - 1);

        Assert.Equal(id, await engine.ClaimCompletionAsync(CancellationToken.None));
        var claimed = await RowAsync(id);
        Assert.Equal((OrderStatus.Pending, Order.MaxCompletionAttempts, engine.InstanceId), (claimed.Status, claimed.CompletionAttempts, claimed.LeaseOwner));

        // That instance dies too: once its lease expires, the next engine gives the order up rather than claim it again.
        await using (var db = factory.CreateDbContext())
        {
            await db.Orders.Where(o => o.Id == id).ExecuteUpdateAsync(s => s.SetProperty(o => o.LeaseExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        }
        Assert.Null(await engine.ClaimCompletionAsync(CancellationToken.None));
        var given = await RowAsync(id);
        Assert.Equal(OrderStatus.Error, given.Status);
        Assert.Contains("internal error", given.Message);
        Assert.Null(given.LeaseOwner);

        // ERROR is not a dead end for its owner: the pages' cancel removes it from their list.
        var dto = await factory.Orders.CancelAsync(new Regards.Portal.Identity.Caller(given.Owner, false), id);
        Assert.Equal(OrderStatus.Deleted, dto.Status);
    }
}
