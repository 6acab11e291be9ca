using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

/// <summary>
/// An order's completion is underway while the order is PENDING without a completion date (claimed, or about to be),
/// or PAUSED while its completion still holds its lease (a pause does not stop a completion). A PAUSED order never
/// completed and not claimed waits for its resume: nothing is being written for it.
/// </summary>
public sealed class OrderCompletionsUnderway(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time) : Basket.IOrderCompletionsUnderway
{
    public async Task<bool> AnyAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Orders.AnyAsync(o => o.CompletionDate == null
            && (o.Status == OrderStatus.Pending || (o.Status == OrderStatus.Paused && o.LeaseExpiresAt > now)), cancellationToken);
    }
}
