using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Regards.Portal.Downloads;

/// <summary>
/// Clients that ask again and again for a file still being staged: past <see cref="DownloadOptions.NotReadyRequestLimit"/>
/// "not ready" answers to one caller (signed-in user or token owner) for one file within a window of
/// <see cref="DownloadOptions.RetryAfterSeconds"/> (the wait the answers ask for), the next requests of that caller for
/// that file are answered 429 + Retry-After (the rest of the window) before any database work. Kept in memory, per
/// instance: behind several instances a client gets up to that many answers per window from each.
/// </summary>
public sealed class NotReadyThrottle(IOptions<DownloadOptions> options, TimeProvider time)
{
    private const int MaxEntries = 100_000;

    private sealed class Window
    {
        public long Start;
        public int Count;
    }

    private readonly ConcurrentDictionary<(string Who, long FileId), Window> windows = new();
    private readonly long length = options.Value.RetryAfterSeconds * time.TimestampFrequency;
    private readonly int limit = options.Value.NotReadyRequestLimit;

    /// <summary>Seconds to wait when the caller has had its "not ready" answers for this file in the current window; else null.</summary>
    public int? RetryAfter(string who, long fileId)
    {
        if (!windows.TryGetValue((who.ToUpperInvariant(), fileId), out var window))
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
    /// Counts a "not ready" answer about to be given: false (with the seconds to wait) when the caller already had its
    /// share in this window, and the answer is 429 instead.
    /// </summary>
    public bool TryCount(string who, long fileId, out int retryAfter)
    {
        var now = time.GetTimestamp();
        if (windows.Count >= MaxEntries)
        {
            Sweep(now);
        }
        var window = windows.GetOrAdd((who.ToUpperInvariant(), fileId), _ => new Window { Start = now });
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

    private int SecondsLeft(Window window, long now) =>
        (int)Math.Max(1, Math.Ceiling((double)(window.Start + length - now) / time.TimestampFrequency));

    /// <summary>Bounded: past windows go first; if that is not enough, everything goes (a flood of distinct keys).</summary>
    private void Sweep(long now)
    {
        foreach (var (key, window) in windows)
        {
            if (now - Volatile.Read(ref window.Start) >= length)
            {
                windows.TryRemove(key, out _);
            }
        }
        if (windows.Count >= MaxEntries)
        {
            windows.Clear();
        }
    }
}
