using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;
using Regards.Portal.Storage;

namespace Regards.Portal.Orders;

/// <summary>
/// Orders for users and admins: creation from the cart, queries, and every action, each checked by
/// <see cref="OrderStateMachine"/>. Another user's order is "not found" (never revealed). Optimistic concurrency
/// on the order row: a conflicting save is retried on fresh data, then answered 409, never lost.
/// </summary>
public sealed class OrderService(
    IDbContextFactory<PortalDbContext> dbFactory,
    OrderProgress progress,
    OrderEngine engine,
    EngineSignal signal,
    OrderChangeNotifier notifier,
    Basket.BasketChangeNotifier basketChanges,
    IFileStorage storage,
    Notifications.IOrderMailer mailer,
    IOptions<OrdersOptions> options,
    TimeProvider time,
    Microsoft.Extensions.Localization.IStringLocalizer<OrdersText> texts,
    ILogger<OrderService> logger)
{
    private const int MaxAttempts = 4;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>Makes an order of the caller's whole cart. Null when there is no cart or it is empty (nothing written).</summary>
    public async Task<OrderDto?> CreateAsync(Caller caller, string? label, bool isApplicationOrder = false, CancellationToken cancellationToken = default)
    {
        // Bad input is a 422 whether or not the cart is empty (a 204 would hide it).
        ValidateLabel(label, Now);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var basket = await db.Baskets.Where(b => b.Owner == caller.Email && b.OrderId == null)
            .Select(b => new { b.Id, Selections = b.DatasetSelections.Count }).FirstOrDefaultAsync(cancellationToken);
        if (basket is null || basket.Selections == 0)
        {
            return null;
        }
        var order = await InsertOrderAsync(db, caller, label, basket.Id, isApplicationOrder, cancellationToken);
        basketChanges.Changed(caller.Email, null);
        return order;
    }

    private async Task<OrderDto> InsertOrderAsync(PortalDbContext db, Caller caller, string? label, long basketId, bool isApplicationOrder, CancellationToken cancellationToken)
    {
        var now = Now;
        var name = ValidateLabel(label, now);
        if (await db.Orders.AnyAsync(o => o.Owner == caller.Email && o.Label == name, cancellationToken))
        {
            throw PortalException.Unprocessable("LABEL_NOT_UNIQUE", $"You already have an order named \"{name}\".", "LABEL_NOT_UNIQUE_FOR_OWNER");
        }
        var order = Order.Place(caller.Email, name, basketId, isApplicationOrder, now);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Orders.Add(order);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // A unique index caught a concurrent twin: the cart's (another order of this cart was written first), else (owner, label).
            if (await db.Orders.AsNoTracking().AnyAsync(o => o.BasketId == basketId, cancellationToken))
            {
                throw PortalException.Conflict("CART_ALREADY_ORDERED", "This cart was just ordered (by another click or another tab): see My orders.");
            }
            throw PortalException.Unprocessable("LABEL_NOT_UNIQUE", $"You already have an order named \"{name}\".", "LABEL_NOT_UNIQUE_FOR_OWNER");
        }
        var taken = await Basket.BasketHandover.TryGiveToOrderAsync(db, basketId, order.Id, cancellationToken);
        if (!taken)
        {
            throw PortalException.Conflict("CART_ALREADY_ORDERED", "This cart was just ordered (by another click or another tab): see My orders.");
        }
        await transaction.CommitAsync(cancellationToken);
        logger.LogInformation("Order {OrderId} \"{Label}\" created by {Actor}", order.Id, order.Label, caller.Email);
        notifier.Publish(order);
        signal.Wake();
        return order.ToDto(caller.IsAdmin);
    }

    private string ValidateLabel(string? label, DateTime now)
    {
        // The default name in the caller's language (REGARDS' "Order of yyyy/MM/dd at HH:mm:ss" in English).
        var name = string.IsNullOrWhiteSpace(label)
            ? string.Format(System.Globalization.CultureInfo.InvariantCulture, texts["DefaultLabel"].Value, now)
            : label.Trim();
        if (name.Length > options.Value.LabelMaxLength)
        {
            throw PortalException.Unprocessable("LABEL_TOO_LONG", $"The label is at most {options.Value.LabelMaxLength} characters.", "TOO_MANY_CHARACTERS_IN_LABEL");
        }
        return name;
    }

    public async Task<OrderDto> GetAsync(Caller caller, long orderId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var order = await db.Orders.VisibleTo(caller).Include(o => o.DatasetTasks).AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken)
            ?? throw PortalException.NotFound("Order");
        return order.ToDto(caller.IsAdmin);
    }

    /// <summary>The caller's own orders, DELETED excluded, newest first.</summary>
    public async Task<PagedResult<OrderDto>> ListMineAsync(Caller caller, PageRequest page, CancellationToken cancellationToken = default)
    {
        page.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Orders.AsNoTracking().Where(o => o.Owner == caller.Email && o.Status != OrderStatus.Deleted);
        var total = await query.LongCountAsync(cancellationToken);
        var orders = await query.OrderByDescending(o => o.CreationDate).ThenByDescending(o => o.Id).Skip(page.Skip).Take(page.Size)
            .Include(o => o.DatasetTasks).AsSplitQuery().ToListAsync(cancellationToken);
        return PagedResult<OrderDto>.Of(orders.Select(o => o.ToDto(caller.IsAdmin)).ToList(), page, total);
    }

    /// <summary>Admin search: filter, server paging and sorting on every column.</summary>
    public async Task<PagedResult<OrderDto>> SearchAsync(Caller caller, OrderSearchFilter filter, PageRequest page, string? sort, CancellationToken cancellationToken = default)
    {
        RequireAdmin(caller);
        page.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = OrderQueries.Sort(OrderQueries.Filter(db.Orders.AsNoTracking(), filter), sort);
        var total = await query.LongCountAsync(cancellationToken);
        var orders = await query.Skip(page.Skip).Take(page.Size).Include(o => o.DatasetTasks).AsSplitQuery().ToListAsync(cancellationToken);
        return PagedResult<OrderDto>.Of(orders.Select(o => o.ToDto(true)).ToList(), page, total);
    }

    /// <summary>Owners' e-mails starting with or containing the text, for the admin filter's autocomplete.</summary>
    public async Task<IReadOnlyList<string>> SearchOwnersAsync(Caller caller, string? text, CancellationToken cancellationToken = default)
    {
        RequireAdmin(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Orders.AsNoTracking().Select(o => o.Owner).Distinct();
        if (!string.IsNullOrWhiteSpace(text))
        {
            // Case-insensitive (ASCII letters) on every provider.
            var pattern = TextSearch.ContainsPattern(text);
            query = query.Where(owner => EF.Functions.Like(owner.ToUpper(), pattern, TextSearch.Escape));
        }
        return await query.OrderBy(o => o).Take(20).ToListAsync(cancellationToken);
    }

    public Task<OrderDto> PauseAsync(Caller caller, long orderId, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, orderId, OrderAction.Pause, async (db, order, now) =>
        {
            order.Pause(now);
            await OrderBulk.SuspendQueuedAsync(db, orderId, cancellationToken);
        }, after: order => engine.StopOrder(order.Id), cancellationToken);

    public Task<OrderDto> ResumeAsync(Caller caller, long orderId, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, orderId, OrderAction.Resume, async (db, order, now) =>
        {
            order.Resume(now);
            // A job stopped by the pause gives its sub-order back as suspended: resuming before would leave it behind.
            if (await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging, cancellationToken))
            {
                throw PortalException.Conflict("ORDER_STILL_STOPPING", "The order's jobs are still stopping; try again in a moment.");
            }
            await OrderBulk.RequeueSuspendedAsync(db, orderId, now, cancellationToken);
        }, after: _ => signal.Wake(), cancellationToken);

    /// <summary>REGARDS' delete: a stopped order (paused or ended) becomes DELETED.</summary>
    public Task<OrderDto> DeleteAsync(Caller caller, long orderId, CancellationToken cancellationToken = default) =>
        DeleteAsync(caller, orderId, OrderAction.Delete, cancellationToken);

    /// <summary>
    /// "Cancel order" of the pages: any live order becomes DELETED at once. Its sub-orders close and lose their
    /// leases, which fences staging jobs still running on any instance (their writes need the lease); this
    /// instance's jobs are stopped now, other instances' when the change feed brings them the change (within about
    /// half a second; at their next lease renewal if the feed is down).
    /// </summary>
    public Task<OrderDto> CancelAsync(Caller caller, long orderId, CancellationToken cancellationToken = default) =>
        DeleteAsync(caller, orderId, OrderAction.Cancel, cancellationToken);

    private Task<OrderDto> DeleteAsync(Caller caller, long orderId, OrderAction action, CancellationToken cancellationToken) =>
        ChangeAsync(caller, orderId, action, async (db, order, now) =>
        {
            // A deleted order waits for no one: its sub-orders end, including those whose files were never downloaded.
            order.Delete(action, now);
            await OrderBulk.CloseSubOrdersAsync(db, orderId, cancellationToken);
        }, after: order =>
        {
            engine.StopOrder(order.Id);
            _ = storage.ReleaseOrderAsync(order.Id, CancellationToken.None);
            signal.Wake();
        }, cancellationToken);

    /// <summary>How many sub-orders (not external) the order has, for "sub-order i of n".</summary>
    public async Task<int> SubOrdersCountAsync(Caller caller, long orderId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Orders.VisibleTo(caller).AnyAsync(o => o.Id == orderId, cancellationToken))
        {
            throw PortalException.NotFound("Order");
        }
        return await db.SubOrders.CountAsync(s => s.OrderId == orderId && !s.External, cancellationToken);
    }

    /// <summary>Admin only: a DELETED order disappears with its tasks, sub-orders, files and cart.</summary>
    public async Task RemoveAsync(Caller caller, long orderId, CancellationToken cancellationToken = default)
    {
        RequireAdmin(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var order = await db.Orders.AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken) ?? throw PortalException.NotFound("Order");
        OrderStateMachine.Apply(order.Status, OrderAction.Remove);
        if (!await OrderBulk.TryRemoveAsync(db, orderId, cancellationToken))
        {
            throw PortalException.Conflict("ORDER_MUST_BE_DELETED", "The order changed meanwhile.");
        }
        logger.LogInformation("Order {OrderId} removed by {Actor}", orderId, caller.Email);
        notifier.Publish(new OrderChange(orderId, order.Owner, OrderStatus.Deleted, order.PercentCompleted, false, 0));
    }

    /// <summary>Files in ERROR or DOWNLOAD_ERROR go back to PENDING in new sub-orders.</summary>
    public Task<OrderDto> RetryAsync(Caller caller, long orderId, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, orderId, OrderAction.Retry, async (db, order, now) =>
        {
            order.Retry(now);
            if (await db.DatasetTasks.AnyAsync(t => t.OrderId == orderId && t.Processing != null, cancellationToken))
            {
                throw PortalException.Conflict("ORDER_HAS_PROCESSING", "An order with a processing cannot be retried; restart it instead.");
            }
            var files = await db.OrderFiles.Where(f => f.OrderId == orderId && (f.State == OrderFileState.Error || f.State == OrderFileState.DownloadError))
                .OrderBy(f => f.DatasetTaskId).ThenBy(f => f.Id).Select(f => new { f.Id, f.Size, f.DatasetTaskId }).ToListAsync(cancellationToken);
            var sequence = await db.SubOrders.Where(s => s.OrderId == orderId).MaxAsync(s => (int?)s.Sequence, cancellationToken) ?? 0;
            foreach (var task in files.GroupBy(f => f.DatasetTaskId))
            {
                var split = new SubOrderSplitter(options.Value.SubOrderMaxFiles, options.Value.SubOrderMaxBytes);
                var batch = new List<long>();
                SubOrder? current = null;
                foreach (var file in task)
                {
                    var startsNew = current is null || split.NeedsNewSubOrder(file.Size, out _);
                    if (startsNew)
                    {
                        await MoveAsync(db, current, batch, cancellationToken);
                        current = SubOrder.Create(order, task.Key, ++sequence, external: false, now);
                        db.SubOrders.Add(current);
                        await db.SaveChangesAsync(cancellationToken);
                    }
                    split.Add(file.Size, startsNew);
                    batch.Add(file.Id);
                }
                await MoveAsync(db, current, batch, cancellationToken);
            }
        }, after: _ => signal.Wake(), cancellationToken);

    private static async Task MoveAsync(PortalDbContext db, SubOrder? subOrder, List<long> fileIds, CancellationToken cancellationToken)
    {
        if (subOrder is null || fileIds.Count == 0)
        {
            return;
        }
        await OrderBulk.MoveFilesToSubOrderAsync(db, subOrder.Id, fileIds, cancellationToken);
        fileIds.Clear();
    }

    /// <summary>A new order from the same selections (a copy of the original cart), with a new label.</summary>
    public async Task<OrderDto> RestartAsync(Caller caller, long orderId, string? label, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var source = await db.Orders.VisibleTo(caller).AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken) ?? throw PortalException.NotFound("Order");
        OrderStateMachine.Apply(source.Status, OrderAction.Restart);
        if (string.IsNullOrWhiteSpace(label))
        {
            throw PortalException.Unprocessable("LABEL_REQUIRED", "A restarted order needs a new label.");
        }
        ValidateLabel(label, Now);
        var copy = source.BasketId is { } basketId ? await Basket.BasketHandover.CopyAsDetachedAsync(db, basketId, cancellationToken) : null;
        if (copy is null)
        {
            throw PortalException.Conflict("ORDER_HAS_NO_SELECTION", "The selections of this order are no longer known.");
        }
        var restarted = await CreateFromDetachedAsync(new Caller(source.Owner, caller.IsAdmin), copy.Value, label, source.IsApplicationOrder, cancellationToken);
        logger.LogInformation("Order {OrderId}: restarted by {Actor} as order {NewOrderId}", orderId, caller.Email, restarted.Id);
        return restarted;
    }

    /// <summary>An order of a cart that was never the user's current one (restart, automatic order); the cart is dropped if the order cannot be made.</summary>
    public async Task<OrderDto> CreateFromDetachedAsync(Caller owner, long basketId, string? label, bool isApplicationOrder, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        try
        {
            return await InsertOrderAsync(db, owner, label, basketId, isApplicationOrder, cancellationToken);
        }
        catch
        {
            await Basket.BasketHandover.DropDetachedAsync(db, basketId);
            throw;
        }
    }

    public Task<OrderDto> ExtendExpirationAsync(Caller caller, long orderId, DateTime expiration, CancellationToken cancellationToken = default)
    {
        RequireAdmin(caller);
        var utc = expiration.ToUniversalTime();
        if (utc <= Now)
        {
            throw PortalException.BadRequest("BAD_EXPIRATION", "The new expiration date must be in the future.");
        }
        return ChangeAsync(caller, orderId, OrderAction.ExtendExpiration, (db, order, now) =>
        {
            var previous = order.ExpirationDate;
            order.ExtendExpiration(utc, now);
            // Links already sent carry the former date: the owner gets links valid until the new one.
            mailer.ExpirationChanged(db, order, previous);
            return Task.CompletedTask;
        }, after: null, cancellationToken);
    }

    /// <summary>
    /// Runs one action on the order: <paramref name="change"/> calls the order's own method (which consults the transition
    /// table) and the sub-orders' bulk moves, in one transaction with the order's save.
    /// </summary>
    private async Task<OrderDto> ChangeAsync(Caller caller, long orderId, OrderAction action, Func<PortalDbContext, Order, DateTime, Task> change, Action<Order>? after, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var order = await db.Orders.VisibleTo(caller).Include(o => o.DatasetTasks).FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken)
                ?? throw PortalException.NotFound("Order");
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            // The order's row before its sub-orders' and files' (OrderBulk's lock order), at the version just read.
            if (!await OrderBulk.TryLockOrderAsync(db, orderId, order.Version, cancellationToken))
            {
                if (attempt < MaxAttempts)
                {
                    continue; // changed since it was read: decide again on fresh data
                }
                throw PortalException.Conflict("CONCURRENT_UPDATE", "The order was changed by someone else; try again.");
            }
            await change(db, order, Now);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < MaxAttempts)
            {
                continue; // The engine or another user changed the order: decide again on fresh data.
            }
            catch (DbUpdateConcurrencyException)
            {
                throw PortalException.Conflict("CONCURRENT_UPDATE", "The order was changed by someone else; try again.");
            }
            logger.LogInformation("Order {OrderId}: {Action} by {Actor} → {Status}", orderId, action, caller.Email, order.Status);
            after?.Invoke(order);
            var recomputed = action is OrderAction.Retry or OrderAction.Resume ? await progress.RecomputeAsync(orderId, cancellationToken) : null;
            notifier.Publish(recomputed ?? order);
            if (recomputed is not null)
            {
                await db.Entry(order).ReloadAsync(cancellationToken);
            }
            return order.ToDto(caller.IsAdmin);
        }
    }

    private static void RequireAdmin(Caller caller)
    {
        if (!caller.IsAdmin)
        {
            throw PortalException.Forbidden("Only administrators may do this.");
        }
    }
}
