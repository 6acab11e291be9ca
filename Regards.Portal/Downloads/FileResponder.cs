using System.Buffers;
using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Regards.Portal.Catalog;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;

namespace Regards.Portal.Downloads;

/// <summary>
/// Answers a single-file GET or HEAD (session or public token): 202/503 while staging (429 past the caller's share of
/// those answers), 422 in error, else the bytes with ranges (206), ETag and If-Range. What the connection took of each
/// response is recorded for its recipient (<see cref="DeliveryLedger"/>): the file becomes DOWNLOADED, counts against
/// the quota and frees its sub-order once all its bytes reached them, in one response or in several ranges; a
/// response cut short with no other of that file under way marks it DOWNLOAD_ERROR "only x/y bytes".
/// </summary>
public static class FileResponder
{
    /// <param name="recipient">Who receives the bytes: the signed-in user, or the owner of the public token.</param>
    public static async Task ServeAsync(HttpContext context, DownloadService downloads, DownloadFile file, string recipient, bool notReady503)
    {
        var response = context.Response;
        var cancellationToken = context.RequestAborted;
        if (file.State == OrderFileState.Pending)
        {
            if (!downloads.CountNotReady(recipient, file, out var wait))
            {
                await DownloadsEndpoints.NotReadyTooOftenAsync(context, wait);
                return;
            }
            downloads.Metrics.Refused("not_ready");
            var seconds = downloads.Options.RetryAfterSeconds;
            response.StatusCode = notReady503 ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status202Accepted;
            response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            response.Headers["X-regards-retry"] = (seconds * 1000).ToString(CultureInfo.InvariantCulture);
            return;
        }
        if (!file.State.IsServable())
        {
            throw PortalException.Unprocessable("FILE_IN_ERROR", file.Error ?? "The file could not be made available.");
        }
        if (file.Tier == StorageTier.External)
        {
            response.Redirect(file.Location);
            return;
        }

        await using var slot = await downloads.AcquireSlotAsync(file.Owner, cancellationToken);
        Stream source;
        try
        {
            source = downloads.OpenRead(file);
        }
        catch (IOException)
        {
            throw PortalException.NotFound("File content");
        }
        await using var _ = source;

        var size = file.Size;
        var etag = new EntityTagHeaderValue("\"" + (file.Checksum ?? $"{file.Id}-{size}") + "\"");
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = etag.ToString();
        response.Headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = file.Name, FileName = AsciiName(file.Name) }.ToString();
        response.ContentType = file.MimeType;

        var (start, end) = (0L, size - 1);
        var requestHeaders = context.Request.GetTypedHeaders();
        if (requestHeaders.Range is { Unit.Value: "bytes", Ranges.Count: 1 } range && RangeApplies(requestHeaders.IfRange, etag))
        {
            var r = range.Ranges.First();
            (start, end) = r.From is { } from ? (from, Math.Min(r.To ?? size - 1, size - 1)) : (Math.Max(0, size - (r.To ?? 0)), size - 1);
            if (start >= size || start > end || (r.From is null && r.To is null or 0))
            {
                response.StatusCode = StatusCodes.Status416RangeNotSatisfiable;
                response.Headers.ContentRange = $"bytes */{size}";
                response.Headers.ContentDisposition = default;
                // Written here: the public route runs without the status-code pages (DownloadsEndpoints).
                await ApiProblems.WriteStatusCodeProblemAsync(context);
                return;
            }
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = $"bytes {start}-{end}/{size}";
        }
        var length = size == 0 ? 0 : end - start + 1;
        response.ContentLength = length;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }
        // A raw file of a user under a quota reserves a download before its bytes go (429 when used up).
        var delivery = await downloads.StartFileResponseAsync(file, recipient, slot, start, length, cancellationToken);

        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        await using var body = downloads.OpenResponse(context);
        long sent = 0;
        var cut = true;
        // A local file that fits in one read is read synchronously, as nginx reads: an asynchronous file read on Linux is
        // a hop through the thread pool, which cost more than the read itself (64 KB from the page cache) under P5's
        // load. Up to a piece it is read straight into the connection's buffer. Larger files, and other storages'
        // streams, are read asynchronously into a buffer of ours.
        var inPlace = source is FileStream && length <= ResponseWriter.PieceSize;
        var buffer = inPlace ? null : ArrayPool<byte>.Shared.Rent((int)Math.Min(downloads.Options.CopyBufferSize, Math.Max(1, length)));
        var oneRead = buffer is not null && source is FileStream && length <= buffer.Length;
        try
        {
            source.Seek(start, SeekOrigin.Begin);
            if (inPlace)
            {
                await response.StartAsync(cancellationToken);
            }
            while (sent < length)
            {
                int read;
                if (buffer is null) // in place
                {
                    read = await body.WriteFromAsync(source, (int)(length - sent), cancellationToken);
                }
                else
                {
                    var chunk = buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - sent));
                    read = oneRead ? source.Read(chunk.Span) : await source.ReadAsync(chunk, cancellationToken);
                    if (read > 0)
                    {
                        await body.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    }
                }
                if (read == 0)
                {
                    // Before any byte a 404; a file read in place has its headers out already, so its connection is cut.
                    throw new IOException("The stored file is shorter than its catalog size.");
                }
                sent += read;
            }
            await body.FlushAsync(cancellationToken);
            cut = false;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException)
        {
            if (!response.HasStarted && e is IOException and not ClientGoneException)
            {
                await downloads.EndFileResponseAsync(delivery, body.Sent, cut: true);
                throw PortalException.NotFound("File content");
            }
            context.Abort();
        }
        finally
        {
            if (buffer is not null)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            downloads.Metrics.ServedBytes(Operations.DownloadKind.File, body.Delivered);
            if (!delivery.Ended)
            {
                // Also after any other failure: the reservation goes back, the error (if any) goes on.
                await downloads.EndFileResponseAsync(delivery, cut ? body.Sent : body.Delivered, cut);
            }
        }
    }

    /// <summary>If-Range with another validator means "send the whole file".</summary>
    private static bool RangeApplies(RangeConditionHeaderValue? ifRange, EntityTagHeaderValue etag) =>
        ifRange is null || (ifRange.EntityTag is { } tag && tag.Compare(etag, useStrongComparison: true));

    private static string AsciiName(string name) =>
        new(name.Select(c => c is >= ' ' and < (char)127 and not '"' and not '\\' ? c : '_').ToArray());
}
