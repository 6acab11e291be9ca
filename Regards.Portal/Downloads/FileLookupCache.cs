using System.Collections.Concurrent;
using Regards.Portal.Orders;

namespace Regards.Portal.Downloads;

/// <summary>
/// Remembers public-token file lookups for a moment, so download clients fetching many files (aria2 with a metalink)
/// do not cost a query each. Any change of an order (state of its files, pause, delete, expiry) evicts its entries at
/// once in this instance; the short lifetime bounds what another instance's change can leave stale.
/// </summary>
public sealed class FileLookupCache : IDisposable
{
    private const int MaxOrders = 1_000;
    private const int MaxFilesPerOrder = 20_000;

    // By order, so that a change of an order evicts its entries without scanning the others'.
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<(string Owner, long FileId), (DownloadFile File, long ExpiresAt)>> orders = new();
    private readonly TimeProvider time;
    private readonly long lifetime;
    private readonly IDisposable subscription;

    public FileLookupCache(OrderChangeNotifier changes, TimeProvider time, TimeSpan lifetime)
    {
        this.time = time;
        this.lifetime = (long)(lifetime.TotalSeconds * time.TimestampFrequency);
        subscription = changes.Subscribe(OrderChangeNotifier.AllOrders, change =>
        {
            Evict(change.OrderId);
            return Task.CompletedTask;
        });
    }

    public async Task<DownloadFile> GetOrAddAsync(OrderTokenClaims claims, long fileId, Func<Task<DownloadFile>> load)
    {
        var key = (claims.Owner, fileId);
        var now = time.GetTimestamp();
        if (orders.TryGetValue(claims.OrderId, out var files) && files.TryGetValue(key, out var hit) && hit.ExpiresAt > now)
        {
            return hit.File;
        }
        var file = await load(); // "not found" is thrown, never cached
        if (orders.Count >= MaxOrders)
        {
            orders.Clear();
        }
        files = orders.GetOrAdd(claims.OrderId, _ => new());
        if (files.Count >= MaxFilesPerOrder)
        {
            files.Clear();
        }
        files[key] = (file, now + lifetime);
        return file;
    }

    public void Evict(long orderId) => orders.TryRemove(orderId, out _);

    public void Dispose() => subscription.Dispose();
}
