using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Regards.Portal.Orders;

namespace Regards.Portal.Downloads;

/// <summary>
/// Clients that ask again and again for a file still being staged: past <see cref="DownloadOptions.NotReadyRequestLimit"/>
/// "not ready" answers to one caller (signed-in user or token owner) for one file within a window of
/// <see cref="DownloadOptions.RetryAfterSeconds"/> (the wait the answers ask for), the next requests of that caller for
/// that file are answered 429 + Retry-After (the rest of the window) before any database work. Any change of the
/// file's order in this instance (the file ready, the order paused, deleted, its expiration moved) lifts its windows at
/// once, and none holds past the order's expiration date (the lookup then says 404). Kept in memory, per instance:
/// behind several instances a client gets up to that many answers per window from each, and another instance's change
/// shows when the window ends.
/// </summary>
public sealed class NotReadyThrottle : IDisposable
{
    private const int MaxEntries = 100_000;

    private sealed class Window(long orderId, DateTime? orderExpiresAt, long start)
    {
        public readonly long OrderId = orderId;
        public readonly DateTime? OrderExpiresAt = orderExpiresAt;
        public long Start = start;
        public int Count;
    }

    private readonly ConcurrentDictionary<(string Who, long FileId), Window> windows = new();
    private readonly ConcurrentDictionary<long, ConcurrentDictionary<(string Who, long FileId), byte>> byOrder = new();
    private readonly TimeProvider time;
    private readonly long length;
    private readonly int limit;
    private readonly IDisposable? subscription;

    public NotReadyThrottle(IOptions<DownloadOptions> options, TimeProvider time, OrderChangeNotifier? changes = null)
    {
        this.time = time;
        length = options.Value.RetryAfterSeconds * time.TimestampFrequency;
        limit = options.Value.NotReadyRequestLimit;
        subscription = changes?.Subscribe(OrderChangeNotifier.AllOrders, change =>
        {
            Lift(change.OrderId);
            return Task.CompletedTask;
        });
    }

    /// <summary>Seconds to wait when the caller has had its "not ready" answers for this file in the current window; else null.</summary>
    public int? RetryAfter(string who, long fileId)
    {
        if (!windows.TryGetValue((who.ToUpperInvariant(), fileId), out var window))
        {
            return null;
        }
        if (window.OrderExpiresAt is { } expiration && expiration <= time.GetUtcNow().UtcDateTime)
        {
            return null;
        }
        var now = time.GetTimestamp();
        lock (window)
        {
            return window.Count >= limit && now - window.Start < length ? SecondsLeft(window, now) : null;
        }
    }

    /// <summary>
    /// Counts a "not ready" answer about to be given for a file of that order: false (with the seconds to wait) when
    /// the caller already had its share in this window, and the answer is 429 instead.
    /// </summary>
    public bool TryCount(string who, long fileId, long orderId, DateTime? orderExpiresAt, out int retryAfter)
    {
        var now = time.GetTimestamp();
        if (windows.Count >= MaxEntries)
        {
            Sweep(now);
        }
        var key = (who.ToUpperInvariant(), fileId);
        var window = windows.GetOrAdd(key, _ => new Window(orderId, orderExpiresAt, now));
        byOrder.GetOrAdd(orderId, _ => new()).TryAdd(key, 0);
        lock (window)
        {
            if (now - window.Start >= length)
            {
                window.Start = now;
                window.Count = 0;
            }
            retryAfter = SecondsLeft(window, now);
            return ++window.Count <= limit;
        }
    }

    /// <summary>The order changed: its files' windows go.</summary>
    public void Lift(long orderId)
    {
        if (byOrder.TryRemove(orderId, out var keys))
        {
            foreach (var key in keys.Keys)
            {
                windows.TryRemove(key, out _);
            }
        }
    }

    private int SecondsLeft(Window window, long now) =>
        (int)Math.Max(1, Math.Ceiling((double)(window.Start + length - now) / time.TimestampFrequency));

    /// <summary>Bounded: past windows go first; if that is not enough, everything goes (a flood of distinct keys).</summary>
    private void Sweep(long now)
    {
        foreach (var (key, window) in windows)
        {
            if (now - Volatile.Read(ref window.Start) >= length && windows.TryRemove(key, out _)
                && byOrder.TryGetValue(window.OrderId, out var keys))
            {
                keys.TryRemove(key, out _);
            }
        }
        if (windows.Count >= MaxEntries)
        {
            windows.Clear();
            byOrder.Clear();
        }
    }

    public void Dispose() => subscription?.Dispose();
}
