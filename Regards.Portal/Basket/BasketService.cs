using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;
using Regards.Portal.Cluster;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Basket;

public sealed class BasketOptions
{
    public const string Section = "Basket";

    [System.ComponentModel.DataAnnotations.Range(1, int.MaxValue)]
    public int MaxObjects { get; set; } = 1_000_000;

    [System.ComponentModel.DataAnnotations.Range(1, 100_000)]
    public int MaxUploadLines { get; set; } = 1_000;

    /// <summary>
    /// Dated selections a cart holds (each "add to cart" makes one per dataset it reaches). An order resolves them all
    /// in one query, which must stay within what every database accepts; a longer list of objects is one selection
    /// through the upload of provider ids.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, MaxSelectionsCeiling)]
    public int MaxSelections { get; set; } = 100;

    /// <summary>The most <see cref="MaxSelections"/> may be set to: an order's query of that many selections is tested.</summary>
    public const int MaxSelectionsCeiling = 300;

    /// <summary>How often <see cref="BasketObjectSweeper"/> looks for carts an order took that still hold objects.</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan ObjectSweepInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Objects of an ordered cart deleted by one statement (its own transaction) of the sweep.</summary>
    [System.ComponentModel.DataAnnotations.Range(1, 1_000_000)]
    public int ObjectSweepChunk { get; set; } = 50_000;

    /// <summary>Pause between two chunks of the sweep, so that other writers get the database (SQLite has one writer).</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan ObjectSweepPause { get; set; } = TimeSpan.FromMilliseconds(100);
}

/// <summary>Raised after every change of a user's cart (key: owner e-mail), on this instance and, through the change
/// feed, on the others (<see cref="BasketChangeRelay"/>).</summary>
public sealed class BasketChangeNotifier(ChangeFeed feed, ILogger<BasketChangeNotifier> logger) : KeyedNotifier<string, BasketDto?>(logger)
{
    public void Changed(string owner, BasketDto? basket)
    {
        Publish(owner, basket);
        feed.Announce(ChangeKinds.Basket, owner);
    }
}

/// <summary>Another instance changed these users' carts: this instance's open cart pages get the cart as it is now.</summary>
public sealed class BasketChangeRelay(BasketService baskets, BasketChangeNotifier notifier) : IRemoteChangeHandler
{
    public string Kind => ChangeKinds.Basket;

    public async Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var owner in keys.Where(o => notifier.SubscriberCount(o) > 0))
        {
            notifier.Publish(owner, await baskets.GetAsync(new Caller(owner, false), cancellationToken));
        }
    }
}

/// <summary>
/// The cart rules of orders.md §2. Every selection is resolved on the server with the caller's rights; the
/// counts of a dataset selection are recomputed from the union of its requests, so an object added twice
/// counts once. The current cart of a user is the one not yet attached to an order.
/// </summary>
public sealed class BasketService(
    IDbContextFactory<PortalDbContext> dbFactory,
    CatalogAccess access,
    BasketChangeNotifier notifier,
    IProcessingChoiceValidator processings,
    IOptions<BasketOptions> options,
    TimeProvider time,
    ILogger<BasketService> logger)
{
    private static readonly TimeSpan RegexTimeout = TimeSpan.FromMilliseconds(200);

    // One writer per cart at a time in this instance (two quick clicks must not create two carts).
    private readonly ConcurrentDictionary<string, SemaphoreSlim> locks = new(StringComparer.OrdinalIgnoreCase);

    public async Task<BasketDto?> GetAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var basket = await LoadCurrentAsync(db, caller.Email, cancellationToken);
        return basket is null ? null : ToDto(basket);
    }

    /// <summary>Adds what the request selects; null when nothing orderable matched (nothing written).</summary>
    public async Task<BasketDto?> AddSelectionAsync(Caller caller, SelectionRequest request, CancellationToken cancellationToken = default)
    {
        if (request.From is { } from && request.To is { } to && from > to)
        {
            throw PortalException.BadRequest("BAD_DATE_RANGE", "from must be before to.");
        }
        var orderable = await access.GetOrderableDatasetIdsAsync(caller, cancellationToken);
        if (request.DatasetId is { } datasetId && !orderable.Contains(datasetId))
        {
            await using var check = await dbFactory.CreateDbContextAsync(cancellationToken);
            var visible = await access.GetVisibleDatasetIdsAsync(caller, cancellationToken);
            if (!visible.Contains(datasetId) || !await check.Datasets.AnyAsync(d => d.Id == datasetId, cancellationToken))
            {
                throw PortalException.NotFound($"Dataset '{datasetId}'");
            }
            throw PortalException.Forbidden("You have no access to the data of this dataset (metadata only).");
        }

        var gate = locks.GetOrAdd(caller.Email, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            // The selection, its counts and the objects it brings are written together or not at all.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var basket = await LoadCurrentAsync(db, caller.Email, cancellationToken) ?? new Basket { Owner = caller.Email };
            var added = await AddItemsAsync(db, basket, request, orderable, options.Value.MaxSelections, cancellationToken);
            if (added.Count == 0)
            {
                return null;
            }
            if (basket.Id == 0)
            {
                db.Baskets.Add(basket);
            }
            await db.SaveChangesAsync(cancellationToken); // ids for the new dataset selections
            foreach (var (selection, item) in added)
            {
                await AddObjectsAsync(db, selection, item, cancellationToken);
            }
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            logger.LogInformation("Cart of {Owner}: added {Objects} objects", caller.Email, added.Sum(a => a.Item.ObjectsCount));
            return Publish(caller.Email, ToDto(basket));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// A cart that is never the user's current one (REGARDS' automatic order): the requests' selections with one file
    /// filter on every dataset. Returns its id, or null when nothing orderable matched (nothing written).
    /// </summary>
    public async Task<long?> CreateDetachedAsync(Caller caller, IReadOnlyList<SelectionRequest> requests, FileFilter? filter, CancellationToken cancellationToken = default)
    {
        filter = NormalizeFileFilter(filter);
        var orderable = await access.GetOrderableDatasetIdsAsync(caller, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var basket = new Basket { Owner = caller.Email, OrderId = -1 }; // never a current cart, even for a moment
        foreach (var request in requests)
        {
            await AddItemsAsync(db, basket, request, orderable, maxSelections: null, cancellationToken);
        }
        // Built once and never edited: counted once from its selections, without keeping its objects.
        foreach (var selection in basket.DatasetSelections)
        {
            selection.FileFilter = filter;
            await CountFromRequestsAsync(db, selection, cancellationToken);
        }
        if (basket.DatasetSelections.Sum(s => s.FilesCount) == 0)
        {
            return null;
        }
        db.Baskets.Add(basket);
        await db.SaveChangesAsync(cancellationToken);
        return basket.Id;
    }

    /// <summary>
    /// Adds one request to <paramref name="basket"/> as a dated selection per dataset it reaches, with the request's own
    /// counts; returns them (none when nothing orderable matched). The dataset selections' counts are the caller's.
    /// </summary>
    private async Task<List<(BasketDatasetSelection Selection, BasketItemSelection Item)>> AddItemsAsync(
        PortalDbContext db, Basket basket, SelectionRequest request, IReadOnlyCollection<string> orderable, int? maxSelections, CancellationToken cancellationToken)
    {
        var perDataset = await db.DataObjects.Matching(request, orderable).Orderable()
            .GroupBy(o => o.DatasetId)
            .Select(g => new { DatasetId = g.Key, Objects = g.Count(), Label = g.Max(o => o.Dataset!.Label) })
            .ToListAsync(cancellationToken);
        if (perDataset.Count == 0)
        {
            return [];
        }
        if (maxSelections is { } max && basket.DatasetSelections.Sum(s => s.ItemSelections.Count) + perDataset.Count > max)
        {
            throw PortalException.Conflict("CART_SELECTIONS_LIMIT",
                $"A cart holds at most {max:N0} selections (one per dataset for each add). Order this cart or remove some of its selections first; a long list of objects can be added as one selection by uploading their ids.");
        }
        var current = basket.DatasetSelections.Sum(d => d.ObjectsCount);
        if (current + perDataset.Sum(d => d.Objects) > options.Value.MaxObjects)
        {
            throw PortalException.Conflict("CART_LIMIT", $"A cart holds at most {options.Value.MaxObjects:N0} objects.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        var added = new List<(BasketDatasetSelection, BasketItemSelection)>(perDataset.Count);
        foreach (var ds in perDataset)
        {
            var selection = basket.DatasetSelections.FirstOrDefault(s => s.DatasetId == ds.DatasetId);
            if (selection is null)
            {
                selection = new BasketDatasetSelection { DatasetId = ds.DatasetId, DatasetLabel = ds.Label ?? ds.DatasetId };
                basket.DatasetSelections.Add(selection);
            }
            var itemRequest = request with { DatasetId = ds.DatasetId };
            var files = await FileStatsAsync(db, [itemRequest], ds.DatasetId, selection.FileFilter, cancellationToken);
            // Dates identify item selections: strictly increasing within a dataset selection.
            var last = selection.ItemSelections.Count == 0 ? DateTime.MinValue : selection.ItemSelections.Max(i => i.Date);
            var date = now > last ? now : last.AddMilliseconds(1);
            var item = new BasketItemSelection
            {
                Date = date, Request = itemRequest, ObjectsCount = ds.Objects, FilesCount = files.Count, FilesSize = files.Size, Quota = files.Quota,
            };
            selection.ItemSelections.Add(item);
            added.Add((selection, item));
        }
        return added;
    }

    /// <summary>
    /// Writes the objects <paramref name="item"/> brings to its (saved) dataset selection and adds what they add to its
    /// counts: the cost is that of the new request alone, whatever the cart already holds.
    /// </summary>
    private static async Task AddObjectsAsync(PortalDbContext db, BasketDatasetSelection selection, BasketItemSelection item, CancellationToken cancellationToken)
    {
        if (selection.ItemSelections.Count == 1)
        {
            // A new dataset selection: what it holds is what this request brings, counted already (the same query).
            await InsertObjectsAsync(db, selection, item, cancellationToken, selectionIsEmpty: true);
            selection.ObjectsCount = item.ObjectsCount;
            selection.FilesCount = item.FilesCount;
            selection.FilesSize = item.FilesSize;
            selection.Quota = item.Quota;
            return;
        }
        if (await IndexEarlierAsync(db, selection, except: item, cancellationToken))
        {
            await InsertObjectsAsync(db, selection, item, cancellationToken);
            await RecountAsync(db, selection, cancellationToken);
            return;
        }
        var objects = await InsertObjectsAsync(db, selection, item, cancellationToken);
        var files = await HeldFileStatsAsync(db, selection, item.Date, cancellationToken);
        selection.ObjectsCount += objects;
        selection.FilesCount += files.Count;
        selection.FilesSize += files.Size;
        selection.Quota += files.Quota;
    }

    /// <summary>
    /// A dataset selection holds no object rows when it is new, or when it was written before carts kept their objects:
    /// then its selections other than <paramref name="except"/> are written now, once. True when that happened.
    /// </summary>
    private static async Task<bool> IndexEarlierAsync(PortalDbContext db, BasketDatasetSelection selection, BasketItemSelection? except, CancellationToken cancellationToken)
    {
        if (await db.BasketObjects.AnyAsync(m => m.DatasetSelectionId == selection.Id, cancellationToken))
        {
            return false;
        }
        var first = true;
        foreach (var earlier in selection.ItemSelections.Where(i => i != except).OrderBy(i => i.Date))
        {
            await InsertObjectsAsync(db, selection, earlier, cancellationToken, selectionIsEmpty: first);
            first = false;
        }
        return true;
    }

    /// <summary>
    /// Writes the objects of <paramref name="item"/> that the dataset selection does not hold yet; returns how many. One
    /// <c>INSERT … SELECT</c> on the server (SQLite, SQL Server and PostgreSQL alike): the SELECT is EF's own translation
    /// of the selection, the selection id and date are written as literals of their columns' types, so no object id
    /// travels through .NET (a million-object dataset took 85 s page by page, a few seconds this way).
    /// </summary>
    /// <param name="selectionIsEmpty">
    /// The selection holds no object yet: no anti-join to plan. On PostgreSQL that anti-join, planned on statistics that
    /// still say the table is empty, probed every row already inserted by the same statement (100 000 objects took
    /// minutes; a million never ended).
    /// </param>
    private static async Task<int> InsertObjectsAsync(PortalDbContext db, BasketDatasetSelection selection, BasketItemSelection item,
        CancellationToken cancellationToken, bool selectionIsEmpty = false)
    {
        var selectionId = selection.Id;
        var ids = db.DataObjects.Matching(item.Request, [selection.DatasetId]).Orderable();
        if (!selectionIsEmpty)
        {
            ids = ids.Where(o => !db.BasketObjects.Any(m => m.DatasetSelectionId == selectionId && m.DataObjectId == o.Id));
        }
        var inserted = await ProviderSql.InsertSelectAsync<BasketObject, string>(db, ids.Select(o => o.Id), nameof(BasketObject.DataObjectId),
            [(nameof(BasketObject.DatasetSelectionId), selectionId), (nameof(BasketObject.ItemDate), item.Date)], cancellationToken);
        if (inserted >= ProviderSql.BulkWriteRows)
        {
            // The next add to this selection anti-joins on these rows: planned on the old statistics, it would scan them all per object.
            await ProviderSql.RefreshStatisticsAsync<BasketObject>(db, cancellationToken);
        }
        return inserted;
    }

    /// <summary>The API's upload: the cart after the import, or null when no id named an orderable object.</summary>
    public async Task<BasketDto?> AddProviderIdsAsync(Caller caller, Stream lines, CancellationToken cancellationToken = default) =>
        (await ImportProviderIdsAsync(caller, lines, cancellationToken)) is { Found: true } import ? import.Basket : null;

    /// <summary>
    /// Adds the objects named by a list of provider ids (one a line) and says what became of them: objects added,
    /// objects already in the cart (not added again: no dated selection is made for them) and ids that name no object
    /// the caller may order.
    /// </summary>
    public async Task<CartImportResult> ImportProviderIdsAsync(Caller caller, Stream lines, CancellationToken cancellationToken = default)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var reader = new StreamReader(lines);
        var count = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            if (++count > options.Value.MaxUploadLines)
            {
                throw new PortalException(StatusCodes.Status413PayloadTooLarge, "TOO_MANY_LINES", $"A list holds at most {options.Value.MaxUploadLines:N0} provider ids.");
            }
            ids.Add(line.Trim());
        }
        if (ids.Count == 0)
        {
            return new CartImportResult(0, 0, 0, null);
        }
        var orderable = await access.GetOrderableDatasetIdsAsync(caller, cancellationToken);
        List<(string Id, string ProviderId)> found;
        HashSet<string> present;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            found = (await db.DataObjects.Where(o => ids.Contains(o.ProviderId) && orderable.Contains(o.DatasetId)).Select(o => new { o.Id, o.ProviderId }).ToListAsync(cancellationToken))
                .Select(o => (o.Id, o.ProviderId)).ToList();
            var objectIds = found.Select(o => o.Id).ToList();
            var basket = await db.Baskets.Where(b => b.Owner == caller.Email && b.OrderId == null).Select(b => (long?)b.Id).FirstOrDefaultAsync(cancellationToken);
            present = basket is null ? [] : (await db.BasketObjects
                .Where(m => objectIds.Contains(m.DataObjectId) && db.BasketDatasetSelections.Any(s => s.Id == m.DatasetSelectionId && s.BasketId == basket))
                .Select(m => m.DataObjectId).Distinct().ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        }
        var unknown = ids.Count - found.Select(o => o.ProviderId).Distinct(StringComparer.Ordinal).Count();
        var fresh = found.Select(o => o.Id).Distinct(StringComparer.Ordinal).Where(id => !present.Contains(id)).ToList();
        var cart = fresh.Count == 0 ? await GetAsync(caller, cancellationToken)
            : await AddSelectionAsync(caller, new SelectionRequest { IncludeIds = fresh }, cancellationToken);
        if (fresh.Count > 0 && cart is null)
        {
            // Their objects hold no orderable file (nothing written): they are as good as unknown.
            return new CartImportResult(0, present.Count, unknown + fresh.Count, present.Count == 0 ? null : await GetAsync(caller, cancellationToken));
        }
        return new CartImportResult(fresh.Count, present.Count, unknown, found.Count == 0 ? null : cart);
    }

    public Task<BasketDto?> RemoveDatasetSelectionAsync(Caller caller, long datasetSelectionId, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, async (db, basket) =>
        {
            var selection = basket.DatasetSelections.FirstOrDefault(s => s.Id == datasetSelectionId) ?? throw PortalException.NotFound("Dataset selection");
            basket.DatasetSelections.Remove(selection);
            db.BasketDatasetSelections.Remove(selection);
            await Task.CompletedTask;
        }, cancellationToken);

    public Task<BasketDto?> RemoveItemSelectionAsync(Caller caller, long datasetSelectionId, DateTime date, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, async (db, basket) =>
        {
            var selection = basket.DatasetSelections.FirstOrDefault(s => s.Id == datasetSelectionId) ?? throw PortalException.NotFound("Dataset selection");
            var utc = date.ToUniversalTime();
            // Dates travel as ISO text: match to the millisecond.
            var item = selection.ItemSelections.FirstOrDefault(i => Math.Abs((i.Date - utc).TotalMilliseconds) < 1) ?? throw PortalException.NotFound("Items selection");
            selection.ItemSelections.Remove(item);
            db.BasketItemSelections.Remove(item);
            if (selection.ItemSelections.Count == 0)
            {
                basket.DatasetSelections.Remove(selection);
                db.BasketDatasetSelections.Remove(selection);
                return;
            }
            if (!await IndexEarlierAsync(db, selection, except: null, cancellationToken))
            {
                // The objects it brought first stay when a later selection holds them too: only those are asked again.
                await db.BasketObjects.Where(m => m.DatasetSelectionId == selection.Id && m.ItemDate == item.Date).ExecuteDeleteAsync(cancellationToken);
                foreach (var later in selection.ItemSelections.Where(i => i.Date > item.Date).OrderBy(i => i.Date))
                {
                    await InsertObjectsAsync(db, selection, later, cancellationToken);
                }
            }
            await RecountAsync(db, selection, cancellationToken);
        }, cancellationToken);

    public Task<BasketDto?> UpdateFileFiltersAsync(Caller caller, long datasetSelectionId, FileFilter? filter, CancellationToken cancellationToken = default)
    {
        var normalized = NormalizeFileFilter(filter);
        return ChangeAsync(caller, async (db, basket) =>
        {
            var selection = basket.DatasetSelections.FirstOrDefault(s => s.Id == datasetSelectionId) ?? throw PortalException.NotFound("Dataset selection");
            if (normalized is not null && selection.Processing is not null)
            {
                throw PortalException.BadRequest("PROCESSING_SET", "Remove the processing of this dataset before filtering its files.");
            }
            selection.FileFilter = normalized;
            await IndexEarlierAsync(db, selection, except: null, cancellationToken);
            await RecountAsync(db, selection, cancellationToken);
        }, cancellationToken);
    }

    /// <summary>True when a file name pattern is empty or a valid regular expression (the dialog checks it as typed).</summary>
    public static bool IsValidFileNamePattern(string? pattern)
    {
        if (string.IsNullOrWhiteSpace(pattern))
        {
            return true;
        }
        try
        {
            _ = new Regex(pattern, RegexOptions.None, RegexTimeout);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>A file filter checked (a valid pattern, orderable types only), or null when it filters nothing.</summary>
    public static FileFilter? NormalizeFileFilter(FileFilter? filter)
    {
        if (!IsValidFileNamePattern(filter?.FileNamePattern))
        {
            throw PortalException.BadRequest("BAD_FILE_NAME_PATTERN", "The file name pattern is not a valid regular expression.");
        }
        if (filter?.FileTypes.Any(t => !SelectionQuery.OrderableTypes.Contains(t)) == true)
        {
            throw PortalException.BadRequest("BAD_FILE_TYPE", "Only raw data and quicklooks can be ordered.");
        }
        return filter is null || (filter.FileTypes.Count == 0 && string.IsNullOrWhiteSpace(filter.FileNamePattern)) ? null : filter;
    }

    /// <summary>Sets (checked against the processing catalogue, parameters resolved) or removes the processing of a dataset selection.</summary>
    public Task<BasketDto?> UpdateProcessingAsync(Caller caller, long datasetSelectionId, ProcessingChoice? processing, CancellationToken cancellationToken = default) =>
        ChangeAsync(caller, async (db, basket) =>
        {
            var selection = basket.DatasetSelections.FirstOrDefault(s => s.Id == datasetSelectionId) ?? throw PortalException.NotFound("Dataset selection");
            if (processing is not null)
            {
                if (selection.FileFilter is not null)
                {
                    throw PortalException.BadRequest("FILE_FILTERS_SET", "Remove the file filters of this dataset before choosing a processing.");
                }
                processing = await processings.ValidateAsync(caller, processing, selection, cancellationToken);
            }
            selection.Processing = processing;
        }, cancellationToken);

    public async Task ClearAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var deleted = await db.Baskets.Where(b => b.Owner == caller.Email && b.OrderId == null).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            Publish(caller.Email, null);
        }
    }

    /// <summary>The objects of a dataset selection (or of one of its dated selections), paged, for the "added objects" dialog.</summary>
    public async Task<PagedResult<DataObjectDto>> GetSelectionObjectsAsync(Caller caller, long datasetSelectionId, DateTime? itemDate, PageRequest page, CancellationToken cancellationToken = default)
    {
        page.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var selection = await db.BasketDatasetSelections.AsNoTracking().Include(s => s.ItemSelections)
            .FirstOrDefaultAsync(s => s.Id == datasetSelectionId && s.Basket!.Owner == caller.Email && s.Basket.OrderId == null, cancellationToken)
            ?? throw PortalException.NotFound("Dataset selection");
        var requests = selection.ItemSelections
            .Where(i => itemDate is null || Math.Abs((i.Date - itemDate.Value.ToUniversalTime()).TotalMilliseconds) < 1)
            .Select(i => i.Request).ToList();
        var query = db.DataObjects.AsNoTracking().MatchingAny(requests, [selection.DatasetId]).Orderable().OrderBy(o => o.ProviderId);
        var total = await query.LongCountAsync(cancellationToken);
        var rows = await query.Skip(page.Skip).Take(page.Size)
            .Select(o => new DataObjectDto(o.Id, o.ProviderId, o.Label, o.DatasetId, selection.DatasetLabel, o.AcquisitionDate, true, null,
                o.Files.Where(f => SelectionQuery.OrderableTypes.Contains(f.DataType)).Select(f => new DataFileDto(f.Name, f.Size, f.DataType, f.MimeType, f.Tier, f.Checksum)).ToList()))
            .ToListAsync(cancellationToken);
        return PagedResult<DataObjectDto>.Of(rows, page, total);
    }

    /// <summary>The objects count of the caller's current cart (the app bar badge).</summary>
    public async Task<int> CountObjectsAsync(string owner, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BasketDatasetSelections.Where(s => s.Basket!.Owner == owner && s.Basket.OrderId == null).SumAsync(s => s.ObjectsCount, cancellationToken);
    }

    private async Task<BasketDto?> ChangeAsync(Caller caller, Func<PortalDbContext, Basket, Task> change, CancellationToken cancellationToken)
    {
        var gate = locks.GetOrAdd(caller.Email, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var basket = await LoadCurrentAsync(db, caller.Email, cancellationToken) ?? throw PortalException.NotFound("Cart");
            await change(db, basket);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return Publish(caller.Email, ToDto(basket));
        }
        finally
        {
            gate.Release();
        }
    }

    private BasketDto? Publish(string owner, BasketDto? basket)
    {
        notifier.Changed(owner, basket);
        return basket;
    }

    private static Task<Basket?> LoadCurrentAsync(PortalDbContext db, string owner, CancellationToken cancellationToken) =>
        db.Baskets.Include(b => b.DatasetSelections).ThenInclude(s => s.ItemSelections)
            .AsSplitQuery()
            .FirstOrDefaultAsync(b => b.Owner == owner && b.OrderId == null, cancellationToken);

    /// <summary>Dataset-level counts from the objects the selection holds (each once).</summary>
    private static async Task RecountAsync(PortalDbContext db, BasketDatasetSelection selection, CancellationToken cancellationToken)
    {
        selection.ObjectsCount = await db.BasketObjects.CountAsync(m => m.DatasetSelectionId == selection.Id, cancellationToken);
        var files = await HeldFileStatsAsync(db, selection, itemDate: null, cancellationToken);
        selection.FilesCount = files.Count;
        selection.FilesSize = files.Size;
        selection.Quota = files.Quota;
    }

    /// <summary>The files (of the selection's file types) of the objects it holds, or of those one dated selection brought.</summary>
    private static async Task<(int Count, long Size, long Quota)> HeldFileStatsAsync(PortalDbContext db, BasketDatasetSelection selection, DateTime? itemDate, CancellationToken cancellationToken)
    {
        var types = selection.FileFilter is { FileTypes.Count: > 0 } filter ? filter.FileTypes.ToList() : SelectionQuery.OrderableTypes.ToList();
        var held = db.BasketObjects.Where(m => m.DatasetSelectionId == selection.Id);
        if (itemDate is { } date)
        {
            held = held.Where(m => m.ItemDate == date);
        }
        var stats = await held.Join(db.DataFiles, m => m.DataObjectId, f => f.DataObjectId, (_, f) => f)
            .Where(f => types.Contains(f.DataType))
            .GroupBy(_ => 1)
            .Select(g => new
            {
                Count = g.Count(),
                Size = g.Sum(f => f.Size ?? 0),
                Quota = g.Count(f => f.DataType == DataType.RawData && f.Tier != StorageTier.External),
            })
            .FirstOrDefaultAsync(cancellationToken);
        return stats is null ? (0, 0, 0) : (stats.Count, stats.Size, stats.Quota);
    }

    /// <summary>Dataset-level counts from the union of the dated selections (a detached cart, which keeps no objects).</summary>
    private static async Task CountFromRequestsAsync(PortalDbContext db, BasketDatasetSelection selection, CancellationToken cancellationToken)
    {
        var requests = selection.ItemSelections.Select(i => i.Request).ToList();
        selection.ObjectsCount = await db.DataObjects.MatchingAny(requests, [selection.DatasetId]).Orderable().CountAsync(cancellationToken);
        var files = await FileStatsAsync(db, requests, selection.DatasetId, selection.FileFilter, cancellationToken);
        selection.FilesCount = files.Count;
        selection.FilesSize = files.Size;
        selection.Quota = files.Quota;
    }

    private static async Task<(int Count, long Size, long Quota)> FileStatsAsync(PortalDbContext db, IReadOnlyList<SelectionRequest> requests, string datasetId, FileFilter? filter, CancellationToken cancellationToken)
    {
        var types = filter is { FileTypes.Count: > 0 } ? filter.FileTypes.ToList() : SelectionQuery.OrderableTypes.ToList();
        var objectIds = db.DataObjects.MatchingAny(requests, [datasetId]).Select(o => o.Id);
        var stats = await db.DataFiles.Where(f => objectIds.Contains(f.DataObjectId) && types.Contains(f.DataType))
            .GroupBy(_ => 1)
            .Select(g => new
            {
                Count = g.Count(),
                Size = g.Sum(f => f.Size ?? 0),
                Quota = g.Count(f => f.DataType == DataType.RawData && f.Tier != StorageTier.External),
            })
            .FirstOrDefaultAsync(cancellationToken);
        return stats is null ? (0, 0, 0) : (stats.Count, stats.Size, stats.Quota);
    }

    public static BasketDto ToDto(Basket basket) => new(basket.Id, basket.Owner, basket.DatasetSelections
        .OrderBy(s => s.DatasetLabel, StringComparer.OrdinalIgnoreCase)
        .Select(s => new BasketDatasetSelectionDto(
            s.Id, s.DatasetId, s.DatasetLabel, s.ObjectsCount, s.FilesCount, s.FilesSize, s.Quota,
            s.ItemSelections.OrderBy(i => i.Date).Select(i => new BasketItemSelectionDto(i.Date, i.Request, i.ObjectsCount, i.FilesCount, i.FilesSize, i.Quota)).ToList(),
            s.Processing, s.FileFilter)).ToList());
}
