using System.Collections.Concurrent;
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

    private readonly ConcurrentDictionary<(long FileId, string Recipient), int> underWay = new();

    public static string Normalize(string recipient) => recipient.ToUpperInvariant();

    /// <summary>A response of that file to that recipient starts; disposing the handle ends it.</summary>
    public ResponseUnderWay Begin(long fileId, string recipient)
    {
        var key = (fileId, Normalize(recipient));
        underWay.AddOrUpdate(key, 1, (_, n) => n + 1);
        return new ResponseUnderWay(this, key);
    }

    private int CountUnderWay((long, string) key) => underWay.GetValueOrDefault(key);

    private void End((long, string) key)
    {
        if (underWay.AddOrUpdate(key, 0, (_, n) => n - 1) <= 0)
        {
            // Bounded: a file nobody is downloading takes no entry (a racing Begin re-adds it).
            underWay.TryRemove(KeyValuePair.Create(key, 0));
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
                    continue; // inserted by another response meanwhile (or the file is gone: the next read says so)
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
    public sealed class ResponseUnderWay(DeliveryLedger ledger, (long FileId, string Recipient) key) : IDisposable
    {
        private int ended;

        /// <summary>Other responses of the same file to the same recipient are under way here (a segmented download).</summary>
        public bool OthersUnderWay => ledger.CountUnderWay(key) > (Volatile.Read(ref ended) == 0 ? 1 : 0);

        public void Dispose()
        {
            if (Interlocked.Exchange(ref ended, 1) == 0)
            {
                ledger.End(key);
            }
        }
    }
}
