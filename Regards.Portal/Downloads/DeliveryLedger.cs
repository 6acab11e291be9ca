using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;

namespace Regards.Portal.Downloads;

/// <summary>
/// Which bytes of which order file reached whom (<see cref="FileDelivery"/> rows, shared by every instance on the
/// database): a file counts as downloaded once all its bytes reached one recipient, whether in one response or in
/// ranges over several requests and connections (a resumed download, aria2's segments), and not after one byte.
/// Also knows, in this instance, which responses of a file are under way: a client that drops one connection of a
/// segmented download while the others go on has not failed.
/// </summary>
public sealed class DeliveryLedger(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time, ILogger<DeliveryLedger> logger)
{
    private const int MaxAttempts = 20;

    /// <summary>The responses of one file to one recipient under way here, and the gate their records pass one at a time.</summary>
    internal sealed class UnderWay
    {
        public int Count;
        public readonly SemaphoreSlim Gate = new(1, 1);
    }

    private readonly Dictionary<(long FileId, string Recipient), UnderWay> underWay = [];
    private readonly Lock underWayLock = new();

    public static string Normalize(string recipient) => recipient.ToUpperInvariant();

    /// <summary>A response of that file to that recipient starts; disposing the handle ends it.</summary>
    public ResponseUnderWay Begin(long fileId, string recipient)
    {
        var key = (fileId, Normalize(recipient));
        UnderWay? entry;
        lock (underWayLock)
        {
            if (!underWay.TryGetValue(key, out entry))
            {
                underWay[key] = entry = new UnderWay();
            }
            entry.Count++;
        }
        return new ResponseUnderWay(this, key, entry);
    }

    private int CountUnderWay(UnderWay entry)
    {
        lock (underWayLock)
        {
            return entry.Count;
        }
    }

    private void End((long, string) key, UnderWay entry)
    {
        lock (underWayLock)
        {
            // Bounded: a file nobody is downloading takes no entry.
            if (--entry.Count == 0)
            {
                underWay.Remove(key);
            }
        }
    }

    /// <summary>
    /// Records, for a response under way, that bytes <c>[from, to)</c> of its file (of <paramref name="size"/> bytes)
    /// reached its recipient (see <see cref="RecordAsync(long, string, long, long, long, CancellationToken)"/>). The
    /// responses of one file to one recipient record one at a time in this instance: they do not race for the row.
    /// </summary>
    public async Task<bool> RecordAsync(ResponseUnderWay response, long size, long from, long to, CancellationToken cancellationToken)
    {
        await response.Entry.Gate.WaitAsync(cancellationToken);
        try
        {
            return await RecordAsync(response.Key.FileId, response.Key.Recipient, size, from, to, cancellationToken);
        }
        finally
        {
            response.Entry.Gate.Release();
        }
    }

    /// <summary>
    /// Records that bytes <c>[from, to)</c> of the file (of <paramref name="size"/> bytes) reached the recipient. True
    /// when, with what reached them before, they now have the whole file: the record is then cleared (the next download
    /// starts from nothing), and exactly one of several responses ending at once gets true.
    /// </summary>
    public async Task<bool> RecordAsync(long fileId, string recipient, long size, long from, long to, CancellationToken cancellationToken)
    {
        var who = Normalize(recipient);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var rows = db.FileDeliveries().Where(d => d.OrderFileId == fileId && d.Recipient == who);
            var row = await rows.AsNoTracking().Select(d => new { d.Ranges, d.Version }).FirstOrDefaultAsync(cancellationToken);
            var delivered = ByteRanges.Parse(row?.Ranges).Add(from, to);
            var now = time.GetUtcNow().UtcDateTime;
            if (delivered.Covers(size))
            {
                if (row is null || await rows.Where(d => d.Version == row.Version).ExecuteDeleteAsync(cancellationToken) == 1)
                {
                    return true;
                }
                continue; // another response changed the record meanwhile: read it again
            }
            var text = delivered.Bounded().Format();
            if (row is null)
            {
                db.FileDeliveries().Add(new FileDelivery { OrderFileId = fileId, Recipient = who, Ranges = text, UpdatedAt = now });
                try
                {
                    await db.SaveChangesAsync(cancellationToken);
                    return false;
                }
                catch (DbUpdateException)
                {
                    continue; // inserted by another instance meanwhile (or the file is gone: the next read says so)
                }
            }
            var version = row.Version;
            if (await rows.Where(d => d.Version == version).ExecuteUpdateAsync(s => s
                    .SetProperty(d => d.Ranges, text)
                    .SetProperty(d => d.UpdatedAt, now)
                    .SetProperty(d => d.Version, d => d.Version + 1), cancellationToken) == 1)
            {
                return false;
            }
        }
        logger.LogWarning("The delivered bytes of order file {FileId} could not be recorded after {Attempts} attempts", fileId, MaxAttempts);
        return false;
    }

    /// <summary>These files reached the recipient whole (a zip, a response of the whole file): their partial records go.</summary>
    public async Task ForgetAsync(IReadOnlyCollection<long> fileIds, string recipient, CancellationToken cancellationToken)
    {
        var who = Normalize(recipient);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var chunk in fileIds.Chunk(500))
        {
            await db.FileDeliveries().Where(d => chunk.Contains(d.OrderFileId) && d.Recipient == who).ExecuteDeleteAsync(cancellationToken);
        }
    }

    /// <summary>What reached the recipient so far of a file not yet delivered whole (tests, diagnostics).</summary>
    public async Task<ByteRanges> ReadAsync(long fileId, string recipient, CancellationToken cancellationToken)
    {
        var who = Normalize(recipient);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return ByteRanges.Parse(await db.FileDeliveries().Where(d => d.OrderFileId == fileId && d.Recipient == who)
            .Select(d => d.Ranges).FirstOrDefaultAsync(cancellationToken));
    }

    /// <summary>One response of a file under way in this instance.</summary>
    public sealed class ResponseUnderWay : IDisposable
    {
        private readonly DeliveryLedger ledger;
        private int ended;

        internal ResponseUnderWay(DeliveryLedger ledger, (long FileId, string Recipient) key, UnderWay entry)
        {
            this.ledger = ledger;
            Key = key;
            Entry = entry;
        }

        internal (long FileId, string Recipient) Key { get; }

        internal UnderWay Entry { get; }

        /// <summary>Other responses of the same file to the same recipient are under way here (a segmented download).</summary>
        public bool OthersUnderWay => ledger.CountUnderWay(Entry) > (Volatile.Read(ref ended) == 0 ? 1 : 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                ledger.End(Key, Entry);
            }
        }
    }
}
