namespace Regards.Portal.Basket;

/// <summary>Whether an order's completion (orders feature) is writing its sub-orders and files now: the sweep of ordered
/// carts' objects (<see cref="BasketObjectSweeper"/>) waits until none is.</summary>
public interface IOrderCompletionsUnderway
{
    Task<bool> AnyAsync(CancellationToken cancellationToken);
}
