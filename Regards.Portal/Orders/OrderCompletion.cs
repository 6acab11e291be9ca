using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Notifications;

namespace Regards.Portal.Orders;

/// <summary>Splits files into sub-orders (orders.md §4.4); pure arithmetic, unit-tested.</summary>
public sealed class SubOrderSplitter(int maxFiles, long maxBytes)
{
    private int files;
    private long bytes;

    /// <summary>True when a file of that size must start a new sub-order.</summary>
    public bool NeedsNewSubOrder(long size, out bool oversized)
    {
        oversized = size > maxBytes;
        var needsNew = files == 0 || oversized || files + 1 > maxFiles || bytes + size > maxBytes;
        return needsNew;
    }

    public void Add(long size, bool startsNew)
    {
        if (startsNew)
        {
            files = 0;
            bytes = 0;
        }
        files++;
        bytes += size;
        if (size > maxBytes)
        {
            // An oversized file is alone in its sub-order: the next file starts another one.
            files = maxFiles;
        }
    }

    /// <summary>Expiration of orders.md §4.5: D with no internal sub-order, else (n + 2) × D, capped.</summary>
    public static TimeSpan Expiration(int internalSubOrders, int subOrderDurationHours, int maxExpirationHours) =>
        TimeSpan.FromHours(Math.Min(maxExpirationHours, internalSubOrders == 0 ? subOrderDurationHours : (internalSubOrders + 2L) * subOrderDurationHours));
}

/// <summary>
/// The asynchronous completion of a PENDING order: resolves its cart's selections page by page with the owner's
/// rights, builds dataset tasks, sub-orders and order files in batches, computes the expiration and sets the status.
/// Restart-safe: a completion interrupted by a crash is redone from scratch by whoever takes the lease over.
/// </summary>
public sealed class OrderCompletion(
    IDbContextFactory<PortalDbContext> dbFactory,
    CatalogAccess access,
    IOptions<OrdersOptions> options,
    PortalSettingsService settings,
    OrderProgress progress,
    Processing.ProcessingCatalog processings,
    IOrderMailer mailer,
    OrderChangeNotifier notifier,
    TimeProvider time,
    ILogger<OrderCompletion> logger)
{
    private const int FileBatch = 5_000;

    public async Task CompleteAsync(long orderId, CancellationToken cancellationToken)
    {
        var o = options.Value;
        await using (var wipe = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await OrderBulk.WipeCompletionAsync(wipe, orderId, cancellationToken);
        }

        Order order;
        List<BasketDatasetSelection> selections;
        Caller owner;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            order = await db.Orders.AsNoTracking().FirstAsync(x => x.Id == orderId, cancellationToken);
            selections = await db.BasketDatasetSelections.AsNoTracking().Include(s => s.ItemSelections)
                .Where(s => s.BasketId == order.BasketId).OrderBy(s => s.Id).ToListAsync(cancellationToken);
            owner = await db.CallerOfAsync(order.Owner, cancellationToken);
        }

        var current = await settings.GetAsync(cancellationToken);
        var writer = new Writer(dbFactory, order, o, time.GetUtcNow().UtcDateTime);
        string? message = null;
        try
        {
            var allowed = await access.GetOrderableDatasetIdsAsync(owner, cancellationToken);
            var refusedUnknownSize = 0;
            var externalNotProcessed = 0;
            var objectsTotal = 0;
            foreach (var selection in selections)
            {
                var requests = selection.ItemSelections.Select(i => i.Request).ToList();
                var processing = selection.Processing is { } choice
                    ? await processings.FindAllowedAsync(owner, choice.ProcessBusinessId, cancellationToken) ?? throw new CompletionRefusedException($"the processing '{choice.ProcessBusinessId}' is no longer available to you.")
                    : null;
                var types = processing is not null ? SelectionQuery.OrderableTypes.Intersect(processing.RequiredDataTypes).ToList()
                    : selection.FileFilter is { FileTypes.Count: > 0 } f ? f.FileTypes.ToList() : SelectionQuery.OrderableTypes.ToList();
                var pattern = selection.FileFilter?.FileNamePattern is { Length: > 0 } p ? new Regex(p, RegexOptions.None, TimeSpan.FromMilliseconds(200)) : null;
                var task = await writer.StartTaskAsync(selection, requests, processing, cancellationToken);
                // One streamed query per selection, in id order: paging it (Id > last, 10 000 at a time) made the database
                // find and sort every object of the dataset again for each page (SQLite: the DatasetId index, then a
                // temporary B-tree for the order), quadratic in the objects (a million-object order stayed PENDING for
                // over 10 minutes). Flat rows, one per file, an object's files one after the other: EF's shaper for a
                // nested list of files per object took a third of the completion's CPU. The writer inserts through
                // connections of its own (SQLite in WAL mode: a reader does not block them).
                await using (var read = await dbFactory.CreateDbContextAsync(cancellationToken))
                {
                    var rows = read.DataObjects.AsNoTracking().MatchingAny(requests, allowed).Orderable()
                        .SelectMany(x => x.Files.Where(file => types.Contains(file.DataType)), (x, file) => new
                        {
                            ObjectId = x.Id, x.ProviderId, FileId = file.Id, file.Name, file.Size, file.MimeType, file.Checksum, file.Md5, file.DataType, file.Tier, file.Location,
                        })
                        .OrderBy(r => r.ObjectId).ThenBy(r => r.FileId)
                        .AsAsyncEnumerable();
                    string? objectId = null;
                    var kept = 0;
                    void EndObject()
                    {
                        if (kept > 0)
                        {
                            task.ObjectsCount++;
                            objectsTotal++;
                        }
                    }
                    await foreach (var file in rows.WithCancellation(cancellationToken))
                    {
                        if (!string.Equals(file.ObjectId, objectId, StringComparison.Ordinal))
                        {
                            EndObject();
                            objectId = file.ObjectId;
                            kept = 0;
                        }
                        if (pattern is not null && !pattern.IsMatch(file.Name))
                        {
                            continue;
                        }
                        if (file.Size is null && file.Tier != StorageTier.External)
                        {
                            refusedUnknownSize++;
                            continue;
                        }
                        if (processing is not null && file.Tier == StorageTier.External)
                        {
                            externalNotProcessed++; // a link has no bytes here to process
                            continue;
                        }
                        kept++;
                        // Time-ordered public ids (UUID v7): each lands at the end of the unique index on them. Random
                        // ones went all over it, and on SQLite (a 2 MB page cache by default) nearly every insert read
                        // index pages back: a million-file order spent about half its time there (P3, dotnet-trace:
                        // sqlite3_step under BulkInsert).
                        await writer.AddFileAsync(task, kept == 1, new OrderFile
                        {
                            PublicId = Guid.CreateVersion7(time.GetUtcNow()), OrderId = orderId, DatasetTaskId = task.Id, DataObjectId = file.ObjectId, ProviderId = file.ProviderId,
                            Name = file.Name, Size = file.Size ?? 0, MimeType = file.MimeType, Checksum = file.Checksum, Md5 = file.Md5, DataType = file.DataType,
                            Tier = file.Tier, Location = file.Location,
                            State = file.Tier == StorageTier.External ? OrderFileState.Available : OrderFileState.Pending,
                        }, cancellationToken);
                    }
                    EndObject();
                }
                await writer.EndTaskAsync(task, cancellationToken);
                if (processing is not null && Processing.ProcessingCatalog.TooBigForOneExecution(processing, task.ObjectsCount, task.FilesCount, task.FilesSize) is { } refusal)
                {
                    throw new CompletionRefusedException(refusal);
                }
            }
            await writer.FlushAsync(cancellationToken);
            if (writer.FilesCount >= ProviderSql.BulkWriteRows)
            {
                // The engine's next queries read these rows: planned as an empty table, they would scan them all.
                await using var statistics = await dbFactory.CreateDbContextAsync(cancellationToken);
                await ProviderSql.RefreshStatisticsAsync<OrderFile>(statistics, cancellationToken);
            }

            var notes = new List<string>();
            if (refusedUnknownSize > 0)
            {
                notes.Add($"{refusedUnknownSize} file(s) of unknown size were refused.");
            }
            if (externalNotProcessed > 0)
            {
                notes.Add($"{externalNotProcessed} external file(s) (links) cannot be processed and were left out.");
            }
            message = notes.Count > 0 ? string.Join(" ", notes) : null;
            var hours = order.IsApplicationOrder ? current.ApplicationSubOrderDurationHours : current.SubOrderDurationHours;
            var expiration = writer.Now + SubOrderSplitter.Expiration(writer.InternalSubOrders, hours, current.MaxExpirationHours);
            OrderAction action;
            if (writer.FilesCount == 0)
            {
                action = OrderAction.CompletionFoundNothing;
                message = objectsTotal == 0 && selections.All(s => s.FileFilter is null) ? "The selected data no longer exist." : "No file matches the filters.";
            }
            else
            {
                action = writer.InternalSubOrders == 0 ? OrderAction.CompletionExternalOnly : OrderAction.CompletionCreatedSubOrders;
            }
            await FinishAsync(orderId, action, expiration, objectsTotal, writer, message, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Completion of order {OrderId} failed", orderId);
            // The user reads this message: a refusal says why; anything else is ours, and its text (paths, SQL) stays in the log.
            var reason = e is CompletionRefusedException ? e.Message : "an internal error occurred; the administrator can see it in the portal's logs.";
            await FinishAsync(orderId, OrderAction.CompletionFailed, null, 0, writer, Truncate("The order could not be completed: " + reason), cancellationToken);
        }
    }

    /// <summary>An order whose completion never finished after <see cref="Order.MaxCompletionAttempts"/> claims becomes ERROR (once, whoever sees it first).</summary>
    public async Task GiveUpAsync(long orderId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var order = await db.Orders.FirstAsync(x => x.Id == orderId, cancellationToken);
        if (order.Status != OrderStatus.Pending || order.CompletionDate is not null || order.CompletionAttempts < Order.MaxCompletionAttempts)
        {
            return;
        }
        order.GiveUpCompletion(time.GetUtcNow().UtcDateTime);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return; // someone else decided first (an instance gave it up, the user paused it)
        }
        logger.LogError("Order {OrderId}: its completion was claimed {Attempts} times and never finished; the order is set to ERROR", orderId, order.CompletionAttempts);
        notifier.Publish(order);
    }

    private async Task FinishAsync(long orderId, OrderAction action, DateTime? expiration, int objects, Writer writer, string? message, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        for (var attempt = 1; ; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var order = await db.Orders.FirstAsync(x => x.Id == orderId, cancellationToken);
            if (order.Status == OrderStatus.Deleted)
            {
                // Cancelled while it was being completed: what was written waits for no one.
                await OrderBulk.CloseSubOrdersAsync(db, orderId, cancellationToken);
                logger.LogInformation("Order {OrderId} was cancelled during its completion", orderId);
                return;
            }
            order.Complete(action, objects, writer.FilesCount, writer.TotalSize, expiration ?? now.AddHours((await settings.GetAsync(cancellationToken)).SubOrderDurationHours), message, now);
            if (order.Status != OrderStatus.Failed)
            {
                // Queued by the save that completes the order.
                mailer.OrderCreated(db, order);
            }
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                continue;
            }
            if (order.Status == OrderStatus.Paused)
            {
                // Paused while completing: its sub-orders wait for the resume.
                await OrderBulk.SuspendQueuedAsync(db, orderId, cancellationToken);
            }
            logger.LogInformation("Order {OrderId} completed: {Status}, {Files} files in {SubOrders} sub-orders", orderId, order.Status, writer.FilesCount, writer.SubOrdersCount);
            await progress.RecomputeAsync(orderId, cancellationToken);
            return;
        }
    }

    private static string Truncate(string text) => text.Length <= 255 ? text : text[..252] + "...";

    /// <summary>Creates tasks, sub-orders and files in batches, keeping memory flat whatever the order size.</summary>
    private sealed class Writer(IDbContextFactory<PortalDbContext> dbFactory, Order order, OrdersOptions options, DateTime now)
    {
        private readonly SubOrderSplitter internalSplit = new(options.SubOrderMaxFiles, options.SubOrderMaxBytes);
        private readonly List<OrderFile> buffer = [];
        private SubOrder? internalSubOrder;
        private SubOrder? externalSubOrder;
        private int externalFiles;
        private int sequence;

        public DateTime Now { get; } = now;
        public int InternalSubOrders { get; private set; }
        public int SubOrdersCount => sequence;
        public int FilesCount { get; private set; }
        public long TotalSize { get; private set; }

        private Processing.ProcessingSplitter? processingSplit;

        public async Task<DatasetTask> StartTaskAsync(BasketDatasetSelection selection, List<SelectionRequest> requests, Processing.IProcessing? processing, CancellationToken cancellationToken)
        {
            processingSplit = processing is null ? null : new Processing.ProcessingSplitter(processing, options.SubOrderMaxFiles, options.SubOrderMaxBytes);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var task = new DatasetTask
            {
                OrderId = order.Id, DatasetId = selection.DatasetId, DatasetLabel = selection.DatasetLabel, SelectionRequests = requests,
                FileFilter = selection.FileFilter, Processing = selection.Processing,
            };
            db.DatasetTasks.Add(task);
            await db.SaveChangesAsync(cancellationToken);
            // Sub-orders do not span datasets.
            internalSubOrder = null;
            externalSubOrder = null;
            return task;
        }

        public async Task EndTaskAsync(DatasetTask task, CancellationToken cancellationToken)
        {
            await FlushAsync(cancellationToken);
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await OrderBulk.SetTaskTotalsAsync(db, task, cancellationToken);
        }

        public async Task AddFileAsync(DatasetTask task, bool newObject, OrderFile file, CancellationToken cancellationToken)
        {
            SubOrder subOrder;
            if (file.Tier == StorageTier.External)
            {
                if (externalSubOrder is null || externalFiles >= options.ExternalSubOrderMaxFiles)
                {
                    externalSubOrder = await NewSubOrderAsync(task, external: true, cancellationToken);
                    externalFiles = 0;
                }
                externalFiles++;
                subOrder = externalSubOrder;
            }
            else
            {
                // A processing decides how its inputs are split into executions (one per sub-order).
                var startsNew = internalSubOrder is null || (processingSplit?.NeedsNewSubOrder(file.Size, newObject) ?? internalSplit.NeedsNewSubOrder(file.Size, out _));
                if (startsNew)
                {
                    internalSubOrder = await NewSubOrderAsync(task, external: false, cancellationToken);
                    InternalSubOrders++;
                }
                if (processingSplit is not null)
                {
                    processingSplit.Add(file.Size, newObject, startsNew);
                }
                else
                {
                    internalSplit.Add(file.Size, startsNew);
                }
                subOrder = internalSubOrder!;
            }
            file.SubOrderId = subOrder.Id;
            buffer.Add(file);
            task.FilesCount++;
            task.FilesSize += file.Size;
            FilesCount++;
            TotalSize += file.Size;
            if (buffer.Count >= FileBatch)
            {
                await FlushAsync(cancellationToken);
            }
        }

        private async Task<SubOrder> NewSubOrderAsync(DatasetTask task, bool external, CancellationToken cancellationToken)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var subOrder = SubOrder.Create(order, task.Id, ++sequence, external, Now);
            db.SubOrders.Add(subOrder);
            await db.SaveChangesAsync(cancellationToken);
            return subOrder;
        }

        public async Task FlushAsync(CancellationToken cancellationToken)
        {
            if (buffer.Count == 0)
            {
                return;
            }
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await BulkInsert.InsertAsync(db, buffer, cancellationToken);
            buffer.Clear();
        }
    }
}

/// <summary>Why an order cannot be made of its selections, in words for its owner (the order's message).</summary>
public sealed class CompletionRefusedException(string message) : Exception(message);
