using System.Globalization;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Orders;

/// <summary>
/// The admin CSV summary (api.md): CsvHelper straight to the response stream, rows read one by one from the
/// database, so memory stays flat for 100 000 orders; spreadsheet formula cells are neutralised. REGARDS' ten
/// columns come first, in REGARDS' order and with its line ends (scripts read them by position); the portal's own
/// columns follow.
/// </summary>
public sealed class OrderCsvExporter(IDbContextFactory<PortalDbContext> dbFactory)
{
    public static readonly string[] Header =
        ["ORDER_ID", "CREATION_DATE", "EXPIRATION_DATE", "OWNER", "STATUS", "STATUS_DATE", "PERCENT_COMPLETE", "FILES_IN_ERROR", "FILES_SIZE", "FILES_COUNT", "LABEL", "OBJECTS_COUNT"];

    public async Task WriteAsync(OrderSearchFilter filter, Stream output, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = OrderQueries.Filter(db.Orders.AsNoTracking(), filter).OrderBy(o => o.Id)
            .Select(o => new { o.Id, o.Label, o.CreationDate, o.ExpirationDate, o.Owner, o.Status, o.StatusDate, o.PercentCompleted, o.FilesInErrorCount, o.TotalSize, o.FilesCount, o.ObjectsCount })
            .AsAsyncEnumerable();
        var options = new CsvWriterOptions { Separator = ';', Injection = CsvInjection.Escape, NewLine = "\n" };
        await using var csv = CsvWriter.Create(output, options, leaveOpen: true);
        csv.WriteHeader(Header);
        var count = 0;
        await foreach (var o in rows.WithCancellation(cancellationToken))
        {
            csv.WriteField(o.Id.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(Iso(o.CreationDate));
            csv.WriteField(o.ExpirationDate is { } expiration ? Iso(expiration) : "");
            csv.WriteField(o.Owner);
            csv.WriteField(o.Status.ApiName());
            csv.WriteField(Iso(o.StatusDate));
            csv.WriteField(o.PercentCompleted.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(o.FilesInErrorCount.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(o.TotalSize.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(o.FilesCount.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(o.Label);
            csv.WriteField(o.ObjectsCount.ToString(CultureInfo.InvariantCulture));
            await csv.EndRecordAsync(cancellationToken);
            if (++count % 1000 == 0)
            {
                await csv.FlushAsync(cancellationToken);
            }
        }
        await csv.FlushAsync(cancellationToken);
    }

    private static string Iso(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

public static class OrderStatusNames
{
    private static readonly Dictionary<string, OrderStatus> ByName =
        Enum.GetValues<OrderStatus>().ToDictionary(ApiName, StringComparer.OrdinalIgnoreCase);

    /// <summary>The status of an API name, or a 400 <c>BAD_FILTER</c>.</summary>
    public static OrderStatus ParseApiName(string name) =>
        ByName.TryGetValue(name, out var status) ? status : throw Infrastructure.PortalException.BadRequest("BAD_FILTER", $"Unknown status '{name}'.");

    /// <summary>The API name of a status (DONE_WITH_WARNING, ...).</summary>
    public static string ApiName(this OrderStatus status) => status switch
    {
        OrderStatus.DoneWithWarning => "DONE_WITH_WARNING",
        _ => status.ToString().ToUpperInvariant(),
    };

    /// <summary>The API name of a file state (DOWNLOAD_ERROR, ...).</summary>
    public static string ApiName(this OrderFileState state) => state switch
    {
        OrderFileState.DownloadError => "DOWNLOAD_ERROR",
        OrderFileState.ProcessingError => "PROCESSING_ERROR",
        _ => state.ToString().ToUpperInvariant(),
    };

    /// <summary>States whose bytes the file endpoints serve (orders.md §7); PENDING answers 202, the errors 422.</summary>
    public static bool IsServable(this OrderFileState state) =>
        state is OrderFileState.Available or OrderFileState.Downloaded or OrderFileState.DownloadError;
}
