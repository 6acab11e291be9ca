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
    private const int MaxEntries = 20_000;
    private readonly ConcurrentDictionary<(long OrderId, string Owner, long FileId), (DownloadFile File, long ExpiresAt)> entries = new();
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
        var key = (claims.OrderId, claims.Owner, fileId);
        var now = time.GetTimestamp();
        if (entries.TryGetValue(key, out var hit) && hit.ExpiresAt > now)
        {
            return hit.File;
        }
        var file = await load(); // "not found" is thrown, never cached
        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }
        entries[key] = (file, now + lifetime);
        return file;
    }

    public void Evict(long orderId)
    {
        foreach (var key in entries.Keys)
        {
            if (key.OrderId == orderId)
            {
                entries.TryRemove(key, out _);
            }
        }
    }

    public void Dispose() => subscription.Dispose();
}
