using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;

namespace Regards.Portal.Basket;

/// <summary>
/// Deletes the objects (<see cref="BasketObject"/>) of carts an order took. They served the cart's counts while it was
/// edited; once the cart has an order nothing reads them (the order resolves its selections itself). The order's
/// transaction only hands the cart over: deleting a million rows there held SQLite's one writer for seconds, before the
/// 201 and ahead of the order's completion (P3).
/// <para>
/// When: only while no order's completion is underway, asked again before each chunk. On SQLite every chunk waits for,
/// or holds up, the completion's inserts, the very writes P3 times: run at a low rate during the completion (a chunk a
/// second), the sweep of a million objects made P3 28.2 s instead of 22.2-22.6 s when it waits (same machine, same
/// load); after it, the rows cost only their space until the next pass. Then in chunks of
/// <see cref="BasketOptions.ObjectSweepChunk"/> rows of one selection, each one statement (its own short transaction),
/// with <see cref="BasketOptions.ObjectSweepPause"/> between them so that other writers (staging) get the database.
/// </para>
/// <para>
/// No lease: a chunk is a range of one selection's keys, so two instances sweeping at once delete each row once and
/// the other finds it gone. What is left to delete is in the database (carts with an order that still hold objects):
/// a pass killed midway is finished by the next pass of any instance, after a restart too.
/// </para>
/// </summary>
public sealed class BasketObjectSweeper(
    IDbContextFactory<PortalDbContext> dbFactory,
    IOrderCompletionsUnderway completions,
    IOptions<BasketOptions> options,
    TimeProvider time,
    ILogger<BasketObjectSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Sweep of ordered carts' objects failed");
            }
            try
            {
                await Task.Delay(options.Value.ObjectSweepInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>
    /// One pass: deletes the objects of every cart an order took, stopping (until the next pass) as soon as an order's
    /// completion is underway. Returns how many rows it deleted.
    /// </summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        if (await completions.AnyAsync(cancellationToken))
        {
            return 0;
        }
        List<long> selections;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            selections = await db.BasketDatasetSelections
                .Where(s => s.Basket!.OrderId != null && db.BasketObjects.Any(m => m.DatasetSelectionId == s.Id))
                .OrderBy(s => s.Id).Select(s => s.Id).ToListAsync(cancellationToken);
        }
        var deleted = 0;
        var first = true;
        foreach (var selectionId in selections)
        {
            var more = true;
            while (more)
            {
                if (!first)
                {
                    await Task.Delay(options.Value.ObjectSweepPause, time, cancellationToken);
                    if (await completions.AnyAsync(cancellationToken))
                    {
                        logger.LogInformation("Sweep of ordered carts' objects: {Rows} deleted, the rest waits for an order's completion", deleted);
                        return deleted;
                    }
                }
                first = false;
                (var rows, more) = await DeleteChunkAsync(selectionId, options.Value.ObjectSweepChunk, cancellationToken);
                deleted += rows;
            }
        }
        if (deleted > 0)
        {
            logger.LogInformation("Sweep of ordered carts' objects: {Rows} deleted from {Selections} dataset selections", deleted, selections.Count);
        }
        return deleted;
    }

    /// <summary>The first <paramref name="chunk"/> objects of the selection in key order (fewer when another sweep got there first); more: some may be left.</summary>
    private async Task<(int Rows, bool More)> DeleteChunkAsync(long selectionId, int chunk, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var held = db.BasketObjects.Where(m => m.DatasetSelectionId == selectionId);
        var last = await held.OrderBy(m => m.DataObjectId).Select(m => m.DataObjectId).Skip(chunk - 1).FirstOrDefaultAsync(cancellationToken);
        if (last is null)
        {
            return (await held.ExecuteDeleteAsync(cancellationToken), false);
        }
        return (await held.Where(m => string.Compare(m.DataObjectId, last) <= 0).ExecuteDeleteAsync(cancellationToken), true);
    }
}
