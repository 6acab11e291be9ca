using System.Globalization;
using System.Text;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Storage;

namespace Regards.Portal.Downloads;

/// <summary>One order file as the download endpoints need it.</summary>
public sealed record DownloadFile(
    long Id, long OrderId, string Owner, string Name, long Size, string MimeType, string? Checksum, OrderFileState State,
    string? Error, DataType DataType, StorageTier Tier, string Location, DateTime? OrderExpiresAt)
{
    public StorageFileRef Ref => new(Tier, Location, Size, Checksum);

    /// <summary>The order's expiration date has passed: its files are served no more, even before the sweep marks it EXPIRED.</summary>
    public bool IsExpired(DateTime utcNow) => OrderExpiresAt is { } expiration && expiration <= utcNow;
}

/// <summary>
/// An order file in the listings: REGARDS' <c>OrderDataFile</c> (dataset files) and <c>OrderDataFileDTO</c> (available
/// files) in one shape, REGARDS' fields in REGARDS' order; <c>datasetTaskId</c>, <c>subOrder</c> (the files task's rank)
/// and <c>downloadUrl</c> on both are the portal's additions. The checksum is a SHA-256 (<c>digestAlgorithm</c>).
/// </summary>
public sealed record OrderFileDto(
    long Id, OrderFileState State, long OrderId, long FilesTaskId, string IpId, string? DownloadError,
    string ProductId, int Version, DataType DataType, bool Reference, string Uri, string MimeType, bool Online,
    string? Checksum, string DigestAlgorithm, [property: JsonPropertyName("filesize")] long Size, string Filename,
    long DatasetTaskId, int SubOrder, string DownloadUrl)
{
    /// <summary>The authenticated download path of one file (<c>/orders/files/{id}</c>).</summary>
    public static string FilePath(long id) => "/api/orders/files/" + id.ToString(CultureInfo.InvariantCulture);

    /// <summary>With absolute URLs, as REGARDS writes them.</summary>
    public OrderFileDto Absolute(Hateoas hateoas) => this with { Uri = hateoas.Href(Uri), DownloadUrl = hateoas.Href(DownloadUrl) };
}

/// <summary>One file response under way (<see cref="DownloadService.StartFileResponseAsync"/>).</summary>
public sealed class FileResponse(DownloadFile file, string recipient, DownloadSlot slot, long start, long length, bool quotaReserved, DeliveryLedger.ResponseUnderWay underWay)
{
    public DownloadFile File => file;
    public string Recipient => recipient;
    public DownloadSlot Slot => slot;
    public long Start => start;
    public long Length => length;
    public bool QuotaReserved => quotaReserved;
    internal DeliveryLedger.ResponseUnderWay UnderWay => underWay;

    /// <summary>Its outcome was recorded.</summary>
    public bool Ended { get; internal set; }
}

/// <summary>The order a zip or metalink is made of (access and state already checked).</summary>
public sealed record DownloadableOrder(long Id, string Owner, string Label, DateTime? ExpirationDate);

/// <summary>
/// Every way of getting an order's data out: listings, the streamed zip, the streamed metalink and single files.
/// Ownership is checked on every path (REGARDS does not check it on its file listings); another user's order is 404.
/// </summary>
public sealed class DownloadService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    IOrderFileEvents fileEvents,
    OrderTokens tokens,
    DownloadQuotas quotas,
    DeliveryLedger ledger,
    StallWatchdog watchdog,
    NotReadyThrottle notReady,
    FileLookupCache lookups,
    Operations.PortalMetrics metrics,
    IOptions<DownloadOptions> options,
    TimeProvider time,
    ILogger<DownloadService> logger)
{
    private const int ZipPageSize = 500;
    private const long PrefetchWindow = 16 << 20;
    private static readonly OrderStatus[] Gone = [OrderStatus.Expired, OrderStatus.Deleted];

    public DownloadOptions Options => options.Value;

    public Operations.PortalMetrics Metrics => metrics;

    /// <summary>The portal's address in metalink URLs: the configured one (behind a proxy), else the request's.</summary>
    public string PublicBaseUrl(HttpRequest request) =>
        (Options.PublicBaseUrl is { Length: > 0 } configured ? configured : $"{request.Scheme}://{request.Host}{request.PathBase}").TrimEnd('/');

    private static async Task<Order> RequireOrderAsync(PortalDbContext db, Caller caller, long orderId, CancellationToken cancellationToken) =>
        await db.Orders.VisibleTo(caller).AsNoTracking().FirstOrDefaultAsync(o => o.Id == orderId, cancellationToken) ?? throw PortalException.NotFound("Order");

    /// <summary>
    /// What a valid token opens: its order, still live, still that owner's and not past its expiration date (an admin
    /// may have moved it earlier than the token's own expiry; the hourly sweep is not waited for).
    /// </summary>
    private IQueryable<Order> OpenedBy(PortalDbContext db, OrderTokenClaims claims)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return db.Orders.Where(o => o.Id == claims.OrderId && o.Owner == claims.Owner && !Gone.Contains(o.Status) && (o.ExpirationDate == null || o.ExpirationDate > now));
    }

    private async Task<Order> RequireTokenOrderAsync(PortalDbContext db, OrderTokenClaims claims, CancellationToken cancellationToken) =>
        await OpenedBy(db, claims).AsNoTracking().FirstOrDefaultAsync(cancellationToken) ?? throw PortalException.NotFound("Order");

    /// <summary>A public token for the order's metalink and files (e-mails, metalink URLs), valid until the order expires.</summary>
    public string CreateToken(Order order) => tokens.Create(order);

    public OrderTokenClaims RequireToken(string? token) =>
        tokens.Read(token) ?? throw new PortalException(StatusCodes.Status401Unauthorized, "INVALID_TOKEN", "The download link is invalid or has expired.");

    // ---- listings ------------------------------------------------------------------------------------------

    public async Task<PagedResult<OrderFileDto>> ListDatasetFilesAsync(Caller caller, long orderId, long datasetTaskId, PageRequest page, CancellationToken cancellationToken)
    {
        page.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RequireOrderAsync(db, caller, orderId, cancellationToken);
        if (!await db.DatasetTasks.AnyAsync(t => t.Id == datasetTaskId && t.OrderId == orderId, cancellationToken))
        {
            throw PortalException.NotFound("Dataset task");
        }
        return await ListAsync(db, db.OrderFiles.Where(f => f.OrderId == orderId && f.DatasetTaskId == datasetTaskId), page, cancellationToken);
    }

    /// <summary>The AVAILABLE files of the order, or of one of its files tasks (sub-orders): 404 when the task is not that order's.</summary>
    public async Task<PagedResult<OrderFileDto>> ListAvailableAsync(Caller caller, long orderId, long? filesTaskId, PageRequest page, CancellationToken cancellationToken)
    {
        page.Validate();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RequireOrderAsync(db, caller, orderId, cancellationToken);
        var files = db.OrderFiles.Where(f => f.OrderId == orderId && f.State == OrderFileState.Available);
        if (filesTaskId is { } taskId)
        {
            if (!await db.SubOrders.AnyAsync(s => s.Id == taskId && s.OrderId == orderId, cancellationToken))
            {
                throw PortalException.NotFound("Files task");
            }
            files = files.Where(f => f.SubOrderId == taskId);
        }
        return await ListAsync(db, files, page, cancellationToken);
    }

    private static async Task<PagedResult<OrderFileDto>> ListAsync(PortalDbContext db, IQueryable<OrderFile> files, PageRequest page, CancellationToken cancellationToken)
    {
        var total = await files.LongCountAsync(cancellationToken);
        var content = await files.AsNoTracking().OrderBy(f => f.Id).Skip(page.Skip).Take(page.Size)
            .Join(db.SubOrders, f => f.SubOrderId, s => s.Id, (f, s) => new OrderFileDto(
                f.Id, f.State, f.OrderId, f.SubOrderId, f.DataObjectId, f.DownloadError,
                f.ProviderId, 1, f.DataType, f.Tier == StorageTier.External, "/api/orders/files/" + f.Id, f.MimeType, f.Tier == StorageTier.Online,
                f.Checksum, "SHA-256", f.Size, f.Name,
                f.DatasetTaskId, s.Sequence, "/api/orders/files/" + f.Id))
            .ToListAsync(cancellationToken);
        return PagedResult<OrderFileDto>.Of(content, page, total);
    }

    // ---- single files ------------------------------------------------------------------------------------

    public async Task<DownloadFile> GetFileAsync(Caller caller, long fileId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        // A deleted (or expired) order's files are gone for its owner and for administrators alike, as for its links.
        return await FileQuery(db, db.Orders.VisibleTo(caller).Where(o => !Gone.Contains(o.Status)), f => f.Id == fileId).FirstOrDefaultAsync(cancellationToken)
            ?? throw PortalException.NotFound("File");
    }

    public async Task<DownloadFile> GetPublicFileAsync(OrderTokenClaims claims, long fileId, CancellationToken cancellationToken)
    {
        var file = await lookups.GetOrAddAsync(claims, fileId, async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            // The token opens its own order's files only: a file of another order is "not found".
            return await FileQuery(db, OpenedBy(db, claims), f => f.Id == fileId).FirstOrDefaultAsync(cancellationToken) ?? throw PortalException.NotFound("File");
        });
        // Checked on every read, a remembered lookup included.
        return file.IsExpired(time.GetUtcNow().UtcDateTime) ? throw PortalException.NotFound("File") : file;
    }

    /// <summary>Files of <paramref name="orders"/> matching <paramref name="where"/>, in id order, in one query
    /// (filtered before the projection, so it translates to SQL).</summary>
    private static IQueryable<DownloadFile> FileQuery(PortalDbContext db, IQueryable<Order> orders, System.Linq.Expressions.Expression<Func<OrderFile, bool>> where, int take = 1) =>
        db.OrderFiles.AsNoTracking().Where(where).OrderBy(f => f.Id).Take(take).Join(orders, f => f.OrderId, o => o.Id, (f, o) => new DownloadFile(
            f.Id, f.OrderId, o.Owner, f.Name, f.Size, f.MimeType, f.Checksum, f.State, f.DownloadError, f.DataType, f.Tier, f.Location, o.ExpirationDate));

    public Stream OpenRead(DownloadFile file) => storage.OpenRead(file.OrderId, file.Ref);

    /// <summary>Whether the file's download counts against the owner's quota of completed downloads.</summary>
    public static bool CountsAgainstQuota(DownloadFile file, DownloadSlot slot) => file.DataType == DataType.RawData && slot.Limits.MaxDownloads >= 0;

    /// <summary>
    /// Before the bytes <c>[start, start + length)</c> of the file go to <paramref name="recipient"/>: a raw file of a
    /// user under a quota reserves one completed download, whatever the range (parallel requests cannot all pass a
    /// check made before any of them is counted; 429 when the quota is used up). The reservation is kept only if this
    /// response completes the file for its recipient (<see cref="EndFileResponseAsync"/>).
    /// </summary>
    public async Task<FileResponse> StartFileResponseAsync(DownloadFile file, string recipient, DownloadSlot slot, long start, long length, CancellationToken cancellationToken)
    {
        var reserved = false;
        if (CountsAgainstQuota(file, slot))
        {
            if (!await quotas.TryReserveAsync(file.Owner, slot.Limits, cancellationToken))
            {
                metrics.Refused("quota");
                throw new PortalException(StatusCodes.Status429TooManyRequests, "DOWNLOAD_QUOTA_EXCEEDED",
                    $"The download quota of {slot.Limits.MaxDownloads} files is used up; ask an administrator to raise it.");
            }
            reserved = true;
        }
        return new FileResponse(file, recipient, slot, start, length, reserved, ledger.Begin(file.Id, recipient));
    }

    /// <summary>
    /// After a file response: <paramref name="delivered"/> bytes from its start reached the client (all of them unless
    /// <paramref name="cut"/>; for a cut response, those the server handed to the connection before it saw the client
    /// leave: a client resuming from what it received then closes the gap). Once every byte of the file reached the recipient, over this and earlier responses, the
    /// file is DOWNLOADED (which frees its sub-order's slot) and the reservation counts; otherwise the reservation goes
    /// back, and a cut response with no other of that file under way marks it DOWNLOAD_ERROR "only x/y bytes" (a
    /// segmented client that drops one connection while the others go on has not failed).
    /// </summary>
    public async Task EndFileResponseAsync(FileResponse response, long delivered, bool cut)
    {
        if (response.Ended)
        {
            return;
        }
        response.Ended = true;
        var file = response.File;
        var othersUnderWay = response.UnderWay.OthersUnderWay;
        try
        {
            bool complete;
            if (!cut && response.Start == 0 && response.Length == file.Size)
            {
                // The whole file in one response: nothing to look up; a partial record of an earlier try goes (a write
                // spared when it changes nothing: a file downloaded again by a user without a quota).
                complete = true;
                if (file.State != OrderFileState.Downloaded || response.QuotaReserved)
                {
                    await ledger.ForgetAsync([file.Id], response.Recipient, CancellationToken.None);
                }
            }
            else
            {
                complete = delivered > 0 && await ledger.RecordAsync(response.UnderWay, file.Size, response.Start, response.Start + delivered, CancellationToken.None);
            }
            if (complete)
            {
                // Counted before the state is written: whoever sees the file DOWNLOADED sees it counted too.
                metrics.ServedFiles(Operations.DownloadKind.File, 1);
                // A file downloaded again changes no state: no write, no progress recompute.
                if (file.State != OrderFileState.Downloaded)
                {
                    await fileEvents.FilesDownloadedAsync(file.OrderId, [file.Id], CancellationToken.None);
                }
                return;
            }
            if (response.QuotaReserved)
            {
                await quotas.ReleaseReservationAsync(file.Owner, response.Slot.Limits);
            }
            if (cut && !othersUnderWay)
            {
                await fileEvents.FileDownloadFailedAsync(file.OrderId, file.Id, $"only {response.Start + delivered}/{file.Size} bytes", CancellationToken.None);
            }
        }
        finally
        {
            response.UnderWay.Dispose();
        }
    }

    /// <summary>The body of a download response: counts what the connection took, drops a client that stalls.</summary>
    public ResponseWriter OpenResponse(HttpContext context) => watchdog.Open(context);

    /// <summary>Before any lookup: seconds to wait when the caller has had its "not ready" answers for that file (429), else null.</summary>
    public int? NotReadyRetryAfter(string caller, long fileId) => notReady.RetryAfter(caller, fileId);

    /// <summary>A "not ready" answer about to be given; false (429 instead, with the seconds to wait) past the caller's share.</summary>
    public bool CountNotReady(string caller, DownloadFile file, out int retryAfter) =>
        notReady.TryCount(caller, file.Id, file.OrderId, file.OrderExpiresAt, out retryAfter);

    /// <summary>One of the owner's zip or metalink slots, or 429.</summary>
    public Task<DownloadSlot> AcquireStreamSlotAsync(string owner, ConcurrencyKind kind, CancellationToken cancellationToken) => quotas.AcquireStreamAsync(owner, kind, cancellationToken);

    public async Task<DownloadSlot> AcquireSlotAsync(string owner, CancellationToken cancellationToken)
    {
        try
        {
            return await quotas.AcquireAsync(owner, cancellationToken);
        }
        catch (PortalException e) when (e.Code == "DOWNLOAD_QUOTA_EXCEEDED")
        {
            metrics.Refused("quota");
            throw;
        }
    }

    // ---- zip -----------------------------------------------------------------------------------------------

    /// <summary>The order to zip, or null (204) when nothing is available.</summary>
    public async Task<DownloadableOrder?> PrepareZipAsync(Caller caller, long orderId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var order = await RequireOrderAsync(db, caller, orderId, cancellationToken);
        if (!OrderStateMachine.Allows(order.Status, OrderAction.Download)
            || !await db.OrderFiles.AnyAsync(f => f.OrderId == orderId && f.State == OrderFileState.Available && f.Tier != StorageTier.External, cancellationToken))
        {
            return null;
        }
        return new DownloadableOrder(order.Id, order.Owner, order.Label, order.ExpirationDate);
    }

    public string ZipFileName(DownloadableOrder order) =>
        $"order_{order.Id}_{time.GetUtcNow().UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}.zip";

    /// <summary>
    /// Streams every AVAILABLE file, uncompressed, into a ZIP64 archive (<see cref="ZipStreamWriter"/>), a page of rows at
    /// a time. Only once the whole archive was written do the zipped files become DOWNLOADED (so a client that
    /// disconnects changes nothing); that also frees the owner's throttle slots so the next sub-orders start.
    /// </summary>
    public async Task WriteZipAsync(DownloadableOrder order, string recipient, DownloadSlot slot, ResponseWriter output, CancellationToken cancellationToken)
    {
        using var activity = Operations.PortalTelemetry.StartOrderActivity("order.zip", order.Id);
        var zip = new ZipStreamWriter(output);
        var names = new UniqueNames();
        var zipped = new List<long>();
        var notice = new List<string>();
        // Raw files are reserved against the quota before their bytes go (as single files are), a page of files at a time
        // (one update, not one per file): parallel zips cannot each pass a check made at their start. What is reserved
        // and not sent is given back; an archive that does not complete gives everything back.
        var counted = slot.Limits.MaxDownloads >= 0;
        var reserved = 0;
        var sentRaw = 0;
        var quotaReached = false;
        long lastId = 0;
        var now = time.GetUtcNow().UtcDateTime;
        var prefetch = Task.CompletedTask;
        try
        {
            while (!quotaReached)
            {
                List<DownloadFile> page;
                await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
                {
                    var after = lastId;
                    page = await FileQuery(db, db.Orders, f => f.OrderId == order.Id && f.State == OrderFileState.Available && f.Id > after, ZipPageSize).ToListAsync(cancellationToken);
                }
                if (page.Count == 0)
                {
                    break;
                }
                if (counted)
                {
                    var wanted = page.Count(f => f.DataType == DataType.RawData && f.Tier != StorageTier.External) - (reserved - sentRaw);
                    reserved += await quotas.ReserveUpToAsync(order.Owner, slot.Limits, wanted, cancellationToken);
                }
                var prefetchedTo = 0;
                for (var i = 0; i < page.Count; i++)
                {
                    var file = page[i];
                    lastId = file.Id;
                    if (file.Tier == StorageTier.External)
                    {
                        notice.Add($"{file.Name}: external file, download it from {file.Location}");
                        continue;
                    }
                    var raw = counted && file.DataType == DataType.RawData;
                    if (raw && sentRaw >= reserved)
                    {
                        quotaReached = true;
                        metrics.Refused("quota");
                        notice.Add("Your download quota is used up: the archive stops here. Ask an administrator to raise it to get the remaining files.");
                        break;
                    }
                    Stream source;
                    try
                    {
                        source = storage.OpenRead(order.Id, file.Ref);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        logger.LogWarning("File {FileId} of order {OrderId} could not be read for the zip: {Error}", file.Id, order.Id, e.Message);
                        notice.Add($"{file.Name}: could not be read ({e.GetType().Name}); download it again later.");
                        continue;
                    }
                    // While this file streams, the storage starts fetching the next ones, up to PrefetchWindow bytes ahead
                    // (off this loop: each hint is a syscall).
                    await prefetch;
                    prefetchedTo = Math.Max(prefetchedTo, i + 1);
                    var ahead = page.Skip(i + 1).Take(prefetchedTo - i - 1).Sum(f => f.Size);
                    var batch = new List<StorageFileRef>();
                    for (; prefetchedTo < page.Count && ahead < PrefetchWindow; prefetchedTo++)
                    {
                        batch.Add(page[prefetchedTo].Ref);
                        ahead += page[prefetchedTo].Size;
                    }
                    if (batch.Count > 0)
                    {
                        prefetch = Task.Run(() => batch.ForEach(next => storage.Prefetch(order.Id, next)), CancellationToken.None);
                    }
                    await using (source)
                    {
                        await zip.AddEntryAsync(names.Next(file.Name), source, now, cancellationToken);
                    }
                    zipped.Add(file.Id);
                    if (raw)
                    {
                        sentRaw++;
                    }
                }
            }
            await prefetch;
            if (notice.Count > 0)
            {
                // CRLF: the notice is read on every platform, Notepad included.
                var text = $"Some files of order \"{order.Label}\" are not in this archive:\r\n\r\n{string.Join("\r\n", notice)}\r\n";
                await using var noticeStream = new MemoryStream(Encoding.UTF8.GetBytes(text));
                await zip.AddEntryAsync(names.Next("NOTICE.txt"), noticeStream, now, cancellationToken);
            }
            // Every write's result said the connection took it (a write after the client left throws, even before the
            // request is signalled aborted): the archive reached the client.
            await zip.FinishAsync(cancellationToken);
            cancellationToken.ThrowIfCancellationRequested();
        }
        catch when (reserved > 0)
        {
            await quotas.ReleaseReservationsAsync(order.Owner, slot.Limits, reserved);
            throw;
        }
        if (reserved > sentRaw)
        {
            await quotas.ReleaseReservationsAsync(order.Owner, slot.Limits, reserved - sentRaw);
        }

        // The archive is complete: from here on, the client's disconnection must not undo the states.
        logger.LogInformation("Zip of order {OrderId}: {Files} files sent", order.Id, zipped.Count);
        metrics.ServedFiles(Operations.DownloadKind.Zip, zipped.Count);
        activity?.SetTag("regards.files", zipped.Count);
        await ledger.ForgetAsync(zipped, recipient, CancellationToken.None);
        await fileEvents.FilesDownloadedAsync(order.Id, zipped, CancellationToken.None);
    }

    // ---- metalink ----------------------------------------------------------------------------------------

    public async Task<(DownloadableOrder Order, string Token)> PrepareMetalinkAsync(Caller caller, long orderId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var order = await RequireOrderAsync(db, caller, orderId, cancellationToken);
        return PrepareMetalink(order);
    }

    public async Task<(DownloadableOrder Order, string Token)> PrepareMetalinkAsync(OrderTokenClaims claims, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return PrepareMetalink(await RequireTokenOrderAsync(db, claims, cancellationToken));
    }

    private (DownloadableOrder, string) PrepareMetalink(Order order)
    {
        if (!OrderStateMachine.Allows(order.Status, OrderAction.Metalink))
        {
            throw PortalException.NotFound("Metalink");
        }
        return (new DownloadableOrder(order.Id, order.Owner, order.Label, order.ExpirationDate), CreateToken(order));
    }

    /// <summary>
    /// The document asked for: <c>?format=</c> first (v3/metalink, v4/meta4), else Metalink 4 for a client that
    /// accepts <c>application/metalink4+xml</c> at least as much as <c>application/metalink+xml</c> (aria2 lists
    /// both, v4 first), else Metalink 3 as REGARDS.
    /// </summary>
    public static MetalinkFormat MetalinkFormatFor(string? format, IList<MediaTypeHeaderValue> accept)
    {
        switch (format?.ToLowerInvariant())
        {
            case "v3" or "metalink":
                return MetalinkFormat.V3;
            case "v4" or "meta4":
                return MetalinkFormat.V4;
            case null or "":
                break;
            default:
                throw PortalException.BadRequest("BAD_FORMAT", "format is v3 (default) or v4.");
        }
        double? Quality(string mediaType) => accept.Where(a => a.MediaType.Equals(mediaType, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Quality ?? 1).Cast<double?>().Max();
        var v4 = Quality(MetalinkWriter.ContentType(MetalinkFormat.V4));
        return v4 > 0 && v4 >= (Quality(MetalinkWriter.ContentType(MetalinkFormat.V3)) ?? 0) ? MetalinkFormat.V4 : MetalinkFormat.V3;
    }

    /// <summary>
    /// REGARDS' pattern <c>order_{id}_{OffsetDateTime.now()}.metalink</c>, whose ISO time has colons: ':' is refused in
    /// Windows file names (and browsers rewrite it), so the time is ISO-8601 UTC to the second with '-' for ':'.
    /// </summary>
    public string MetalinkFileName(DownloadableOrder order, MetalinkFormat format) =>
        $"order_{order.Id}_{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH-mm-ss'Z'", CultureInfo.InvariantCulture)}{MetalinkWriter.Extension(format)}";

    /// <summary>Every file of the order (any state), streamed into the metalink document (<see cref="EntriesAsync"/>).</summary>
    public async Task WriteMetalinkAsync(DownloadableOrder order, string token, string baseUrl, MetalinkFormat format, bool notReady503, Stream output, CancellationToken cancellationToken)
    {
        var writer = new MetalinkWriter(output, format, time.GetUtcNow().UtcDateTime);
        await writer.StartAsync(cancellationToken);
        await foreach (var entry in EntriesAsync(order, token, baseUrl, notReady503, cancellationToken))
        {
            await writer.WriteFileAsync(entry, cancellationToken);
        }
        await writer.EndAsync(cancellationToken);
    }

    /// <summary>
    /// The order's download script (bash + curl, <see cref="DownloadScriptWriter"/>): the metalink's files, names and
    /// hashes, streamed the same way. Its URLs ask for 503 on files not ready, which curl reports as a failure (a 202
    /// would be saved as the file).
    /// </summary>
    public async Task WriteScriptAsync(DownloadableOrder order, string token, string baseUrl, Stream output, CancellationToken cancellationToken)
    {
        var writer = new DownloadScriptWriter(output);
        await writer.StartAsync(order.Id, order.Label, time.GetUtcNow().UtcDateTime, tokens.Read(token)?.ExpiresAt, cancellationToken);
        await foreach (var entry in EntriesAsync(order, token, baseUrl, notReady503: true, cancellationToken))
        {
            await writer.WriteFileAsync(entry, cancellationToken);
        }
        await writer.EndAsync(cancellationToken);
    }

    /// <summary>REGARDS-like name: <c>order_{id}_{time}.sh</c>.</summary>
    public string ScriptFileName(DownloadableOrder order) =>
        $"order_{order.Id}_{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH-mm-ss'Z'", CultureInfo.InvariantCulture)}.sh";

    /// <summary>
    /// Every file of the order (any state) with its unique name and public-token URL, a page of rows at a time, dataset
    /// task by dataset task: paging on the (DatasetTaskId, Id) index is a seek, where paging by order had no index giving
    /// the Id order and sorted all the order's remaining files again for every page.
    /// </summary>
    private async IAsyncEnumerable<MetalinkEntry> EntriesAsync(DownloadableOrder order, string token, string baseUrl, bool notReady503,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var names = new UniqueNames();
        var query = "?orderToken=" + Uri.EscapeDataString(token) + (notReady503 ? "&notReady=503" : "");
        List<long> tasks;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            tasks = await db.DatasetTasks.Where(t => t.OrderId == order.Id).OrderBy(t => t.Id).Select(t => t.Id).ToListAsync(cancellationToken);
        }
        foreach (var task in tasks)
        {
            long lastId = 0;
            while (true)
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                var page = await db.OrderFiles.AsNoTracking().Where(f => f.DatasetTaskId == task && f.Id > lastId).OrderBy(f => f.Id).Take(2000)
                    .Select(f => new { f.Id, f.Name, f.Size, f.MimeType, f.Checksum, f.Md5, f.Tier, f.Location }).ToListAsync(cancellationToken);
                if (page.Count == 0)
                {
                    break;
                }
                foreach (var f in page)
                {
                    lastId = f.Id;
                    var url = f.Tier == StorageTier.External ? f.Location : $"{baseUrl}/api/orders/public/files/{f.Id}{query}";
                    yield return new MetalinkEntry(names.Next(f.Name), f.Size, f.MimeType, f.Checksum, f.Md5, url);
                }
            }
        }
    }
}

/// <summary>De-duplicates file names the way orders.md §7 says: "name (n).ext".</summary>
public sealed class UniqueNames
{
    private readonly HashSet<string> used = new(StringComparer.OrdinalIgnoreCase);

    public string Next(string name)
    {
        name = Sanitize(name);
        if (used.Add(name))
        {
            return name;
        }
        var extension = Path.GetExtension(name);
        var stem = name[..^extension.Length];
        for (var n = 1; ; n++)
        {
            var candidate = $"{stem} ({n}){extension}";
            if (used.Add(candidate))
            {
                return candidate;
            }
        }
    }

    /// <summary>Entry names are flat: no folders, no traversal, no control characters.</summary>
    private static string Sanitize(string name)
    {
        var flat = name.Replace('\\', '/');
        flat = flat[(flat.LastIndexOf('/') + 1)..];
        // Copied only when it holds a control character (C0, DEL, C1: char.IsControl's ranges): almost never.
        if (flat.AsSpan().IndexOfAnyInRange('\0', '\x1f') >= 0 || flat.AsSpan().IndexOfAnyInRange('\x7f', '\x9f') >= 0)
        {
            flat = new string(flat.Where(c => !char.IsControl(c)).ToArray());
        }
        flat = flat.Trim();
        return flat is "" or "." or ".." ? "file" : flat;
    }
}
