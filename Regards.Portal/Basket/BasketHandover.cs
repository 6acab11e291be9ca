using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Basket;

/// <summary>The moves of carts that ordering needs. Only the Basket feature writes carts; Orders calls these.</summary>
public static class BasketHandover
{
    /// <summary>
    /// The order takes the cart (kept with it for restart), and the next add starts a new cart. Only a cart that no
    /// order took yet (a detached one is marked -1): of two orders placed at once from one cart, the second finds it
    /// taken (the database serialises the two updates) and gets false. The objects it held (they served its counts
    /// while it was edited; the order resolves its selections itself) are left to <see cref="BasketObjectSweeper"/>:
    /// deleting them here held the order's transaction, and SQLite's one writer, for seconds.
    /// </summary>
    public static async Task<bool> TryGiveToOrderAsync(PortalDbContext db, long basketId, long orderId, CancellationToken cancellationToken) =>
        await db.Baskets.Where(b => b.Id == basketId && (b.OrderId == null || b.OrderId < 0))
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.OrderId, orderId), cancellationToken) == 1;

    /// <summary>A detached cart (restart, automatic order) whose order could not be made.</summary>
    public static Task<int> DropDetachedAsync(PortalDbContext db, long basketId) =>
        db.Baskets.Where(b => b.Id == basketId && b.OrderId < 0).ExecuteDeleteAsync(CancellationToken.None);

    /// <summary>The cart of an order that is removed for good (with whatever objects the sweep has not deleted yet: cascade).</summary>
    public static Task<int> DeleteOfOrderAsync(PortalDbContext db, long orderId, CancellationToken cancellationToken) =>
        db.Baskets.Where(b => b.OrderId == orderId).ExecuteDeleteAsync(cancellationToken);

    /// <summary>A copy of an order's cart for a new order of the same selections (restart); never anyone's current cart. Null when it is gone.</summary>
    public static async Task<long?> CopyAsDetachedAsync(PortalDbContext db, long basketId, CancellationToken cancellationToken)
    {
        var basket = await db.Baskets.AsNoTracking().Include(b => b.DatasetSelections).ThenInclude(s => s.ItemSelections)
            .FirstOrDefaultAsync(b => b.Id == basketId, cancellationToken);
        if (basket is null)
        {
            return null;
        }
        var copy = new Basket
        {
            Owner = basket.Owner, OrderId = -1, // never a current cart, even for a moment
            DatasetSelections = basket.DatasetSelections.Select(s => new BasketDatasetSelection
            {
                DatasetId = s.DatasetId, DatasetLabel = s.DatasetLabel, ObjectsCount = s.ObjectsCount, FilesCount = s.FilesCount, FilesSize = s.FilesSize, Quota = s.Quota,
                FileFilter = s.FileFilter, Processing = s.Processing,
                ItemSelections = s.ItemSelections.Select(i => new BasketItemSelection { Date = i.Date, Request = i.Request, ObjectsCount = i.ObjectsCount, FilesCount = i.FilesCount, FilesSize = i.FilesSize, Quota = i.Quota }).ToList(),
            }).ToList(),
        };
        db.Baskets.Add(copy);
        await db.SaveChangesAsync(cancellationToken);
        return copy.Id;
    }
}
