using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Infrastructure;

namespace Regards.Portal.Cluster;

/// <summary>The kinds of change the instances tell each other, and the key each one carries.</summary>
public static class ChangeKinds
{
    /// <summary>An order (its status, progress, files): key = the order id.</summary>
    public const string Order = "order";

    /// <summary>A user's cart: key = the owner's e-mail.</summary>
    public const string Basket = "basket";

    /// <summary>The admin's order settings: key = "*".</summary>
    public const string Settings = "settings";

    /// <summary>A UI module's settings: key = the module id.</summary>
    public const string Module = "module";

    /// <summary>A user's download limits: key = the user's e-mail.</summary>
    public const string Quota = "quota";
}

/// <summary>What a feature does when another instance changed something of the <see cref="Kind"/> it owns.</summary>
public interface IRemoteChangeHandler
{
    string Kind { get; }

    /// <summary>The distinct keys changed elsewhere since the last call (one call per poll, however many rows).</summary>
    Task HandleAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken);
}

/// <summary>
/// The instances' change feed, a table every instance appends to and reads with its own cursor (no server push needed,
/// so it works the same on SQLite, SQL Server and PostgreSQL). Announcing never waits: changes are collected, repeated
/// ones counted once, and written in one statement by <see cref="ChangeFeedListener"/> at its next poll.
/// </summary>
public sealed class ChangeFeed(IOptions<ClusterOptions> options)
{
    private const int MaxPending = 100_000;

    private ConcurrentDictionary<(string Kind, string Key), byte> pending = new();

    /// <summary>This process in the feed's <see cref="ChangeFeedEntry.Origin"/> column (and in the slots it holds).</summary>
    public string InstanceId { get; } = LeaseOwnerId.New();

    public ClusterOptions Options => options.Value;

    /// <summary>Tells the other instances that this thing changed (this instance has already acted on it).</summary>
    public void Announce(string kind, string key)
    {
        if (pending.Count < MaxPending)
        {
            pending.TryAdd((kind, key), 0);
        }
        else
        {
            // Far more distinct changes than one poll ever sees: the writer is stuck (database down). One row per kind
            // "everything of that kind" would be wrong for orders, so the overflow is dropped; caches' lifetimes bound it.
            Dropped++;
        }
    }

    /// <summary>Announcements dropped because the feed could not be written for a long time.</summary>
    public long Dropped { get; private set; }

    internal IReadOnlyCollection<(string Kind, string Key)> TakePending()
    {
        if (pending.IsEmpty)
        {
            return [];
        }
        var taken = Interlocked.Exchange(ref pending, new());
        return taken.Keys.ToList();
    }

    /// <summary>Puts back what could not be written (the database was unavailable), to be tried at the next poll.</summary>
    internal void Requeue(IEnumerable<(string Kind, string Key)> changes)
    {
        foreach (var change in changes)
        {
            Announce(change.Kind, change.Key);
        }
    }
}

/// <summary>
/// Each instance's loop over the change feed: writes this instance's announcements, reads the other instances' rows past
/// its cursor (one query per poll for the whole instance, whatever the number of open pages), hands each kind's keys to
/// its <see cref="IRemoteChangeHandler"/>, and prunes old rows under a lease.
/// <para>
/// On SQLite the feed is read only when the database changed since the last read (<see cref="DatabaseChanges"/>): an
/// idle instance asks one pragma per poll instead of querying. Nothing is heard later for it: a feed row is a commit.
/// </para>
/// <para>
/// Ids are given in insertion order but on a database server a row can become visible after a later one (two
/// transactions committing in the other order). The cursor therefore only moves over a contiguous run of ids; a hole is
/// waited for <see cref="GapWait"/> (an id taken by a transaction that rolled back never fills), then passed.
/// </para>
/// </summary>
public sealed class ChangeFeedListener(
    ChangeFeed feed,
    IEnumerable<IRemoteChangeHandler> handlers,
    IDbContextFactory<PortalDbContext> dbFactory,
    DatabaseChanges databaseChanges,
    TimeProvider time,
    ILogger<ChangeFeedListener> logger) : BackgroundService
{
    private const int BatchSize = 2_000;
    private const string PruneLease = "change-feed-prune";
    internal static readonly TimeSpan GapWait = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, IRemoteChangeHandler> byKind = handlers.ToDictionary(h => h.Kind);
    private readonly SortedSet<long> seenPastCursor = [];
    private long cursor = -1;
    private DateTimeOffset? gapSince;
    private DateTimeOffset nextPrune;

    /// <summary>The database's version when the feed was last read to its end (null: read at the next poll, the first too).</summary>
    private long? readAtVersion;

    /// <summary>Completed polls (tests wait for one after a change).</summary>
    public long Polls { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Change feed poll failed; retrying");
            }
            try
            {
                await Task.Delay(feed.Options.ChangePollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        // A graceful stop writes what this instance announced last.
        try
        {
            await WriteAsync(CancellationToken.None);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Change feed: the last announcements could not be written");
        }
    }

    /// <summary>One poll: write, read, dispatch, maybe prune.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await WriteAsync(cancellationToken);
        // Asked before reading: a commit made during the read changes the version, and the next poll reads again.
        var version = databaseChanges.Version();
        if (version is null || version != readAtVersion)
        {
            readAtVersion = null;
            bool more;
            do
            {
                more = await ReadAsync(cancellationToken);
            }
            while (more && !cancellationToken.IsCancellationRequested);
            readAtVersion = version;
        }
        else
        {
            // Nothing new to read, but a hole waited for may now be old enough to pass.
            Advance();
        }
        if (time.GetUtcNow() >= nextPrune)
        {
            nextPrune = time.GetUtcNow() + feed.Options.ChangeRetention / 10;
            await PruneAsync(cancellationToken);
        }
        Polls++;
    }

    private async Task WriteAsync(CancellationToken cancellationToken)
    {
        var changes = feed.TakePending();
        if (changes.Count == 0)
        {
            return;
        }
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var now = time.GetUtcNow().UtcDateTime;
            db.Set<ChangeFeedEntry>().AddRange(changes.Select(c => new ChangeFeedEntry { Kind = c.Kind, Key = c.Key, Origin = feed.InstanceId, CreatedAt = now }));
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            feed.Requeue(changes);
            throw;
        }
    }

    /// <summary>Reads past the cursor; true when a full batch came (read again at once).</summary>
    private async Task<bool> ReadAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.Set<ChangeFeedEntry>().AsNoTracking();
        if (cursor < 0)
        {
            // A starting instance has nothing cached and no page open: it starts from the newest row.
            cursor = await entries.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0;
            return false;
        }
        var from = cursor;
        var rows = await entries.Where(e => e.Id > from).OrderBy(e => e.Id).Take(BatchSize)
            .Select(e => new { e.Id, e.Kind, e.Key, e.Origin }).ToListAsync(cancellationToken);
        var changed = new Dictionary<string, HashSet<string>>();
        foreach (var row in rows)
        {
            if (!seenPastCursor.Add(row.Id) || row.Origin == feed.InstanceId)
            {
                continue;
            }
            if (!changed.TryGetValue(row.Kind, out var keys))
            {
                changed[row.Kind] = keys = [];
            }
            keys.Add(row.Key);
        }
        Advance();
        foreach (var (kind, keys) in changed)
        {
            if (!byKind.TryGetValue(kind, out var handler))
            {
                continue; // a kind a newer version announces
            }
            try
            {
                await handler.HandleAsync(keys, cancellationToken);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                // Its rows are passed: one handler's failure must not replay every kind forever. What it missed is
                // bounded by its cache's own lifetime (README "Running several instances").
                logger.LogWarning(e, "Change feed: handling {Count} change(s) of {Kind} failed", keys.Count, kind);
            }
        }
        return rows.Count == BatchSize;
    }

    /// <summary>Moves the cursor over the ids seen without a hole; passes a hole older than <see cref="GapWait"/>.</summary>
    private void Advance()
    {
        while (seenPastCursor.Count > 0)
        {
            var lowest = seenPastCursor.Min;
            if (lowest == cursor + 1)
            {
                cursor = lowest;
                seenPastCursor.Remove(lowest);
                gapSince = null;
                continue;
            }
            var now = time.GetUtcNow();
            gapSince ??= now;
            if (now - gapSince.Value < GapWait)
            {
                return;
            }
            logger.LogDebug("Change feed: ids {From}-{To} never appeared; passed", cursor + 1, lowest - 1);
            cursor = lowest - 1;
            gapSince = null;
        }
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (!await JobLeases.TryTakeAsync(dbFactory, PruneLease, feed.InstanceId, now + feed.Options.ChangeRetention / 10, now, cancellationToken))
        {
            return;
        }
        var before = now - feed.Options.ChangeRetention;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.Set<ChangeFeedEntry>();
        var newest = await entries.MaxAsync(e => (long?)e.Id, cancellationToken) ?? 0;
        // The newest row stays whatever its age, so that a starting instance's cursor never goes back.
        await entries.Where(e => e.CreatedAt < before && e.Id < newest).ExecuteDeleteAsync(cancellationToken);
    }
}
