using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Storage;

namespace Regards.Portal.Orders;

/// <summary>
/// The background engine: completes PENDING orders and stages sub-orders. All its state is in the database: a
/// job is claimed by an atomic conditional UPDATE that sets a lease (owner + expiry), renewed while the job runs,
/// so a second instance never takes a live job and anyone takes over a dead instance's jobs once their lease expired.
/// The per-user throttle is part of the claim's condition.
/// </summary>
public sealed class OrderEngine(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    OrderCompletion completion,
    OrderProgress progress,
    Processing.ProcessingRunner processing,
    EngineSignal signal,
    IOptions<OrdersOptions> options,
    TimeProvider time,
    ILogger<OrderEngine> logger) : BackgroundService
{
    private const int MaxParallelCompletions = 2;

    /// <summary>Identifies this process in lease columns.</summary>
    public string InstanceId { get; } = Infrastructure.LeaseOwnerId.New();

    private readonly ConcurrentDictionary<long, StagingJob> staging = new();
    private readonly ConcurrentDictionary<string, DateTime> lastServed = new(StringComparer.OrdinalIgnoreCase);
    private OrdersOptions Options => options.Value;

    private sealed record StagingJob(long SubOrderId, long OrderId, CancellationTokenSource Cancel)
    {
        public volatile bool PauseRequested;
    }

    /// <summary>Stops this instance's staging jobs of the order promptly (pause, delete, expiry).</summary>
    public void StopOrder(long orderId)
    {
        foreach (var job in staging.Values.Where(j => j.OrderId == orderId))
        {
            job.PauseRequested = true;
            job.Cancel.Cancel();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Options.EngineEnabled)
        {
            return;
        }
        logger.LogInformation("Order engine {Instance} started", InstanceId);
        var completions = new List<Task>();
        var stagings = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                completions.RemoveAll(t => t.IsCompleted);
                while (completions.Count < MaxParallelCompletions && await ClaimCompletionAsync(stoppingToken) is { } orderId)
                {
                    completions.Add(RunCompletionAsync(orderId, stoppingToken));
                }
                stagings.RemoveAll(t => t.IsCompleted);
                if (stagings.Count < Options.MaxParallelStaging)
                {
                    foreach (var job in await ClaimSubOrdersAsync(Options.MaxParallelStaging - stagings.Count, stoppingToken))
                    {
                        stagings.Add(RunStagingAsync(job.SubOrderId, job.OrderId, stoppingToken));
                    }
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Order engine loop failed; retrying");
            }
            try
            {
                await signal.WaitAsync(Options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(completions.Concat(stagings).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>Claims one PENDING order to complete, one per user at a time.</summary>
    internal async Task<long?> ClaimCompletionAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var candidates = await db.Orders
            .Where(o => o.Status == OrderStatus.Pending && o.CompletionDate == null && (o.LeaseOwner == null || o.LeaseExpiresAt < now))
            .OrderBy(o => o.Id).Select(o => new { o.Id, o.Owner }).Take(20).ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return null;
        }
        var busy = await db.Orders.Where(o => o.Status == OrderStatus.Pending && o.LeaseOwner != null && o.LeaseExpiresAt >= now)
            .Select(o => o.Owner).Distinct().ToListAsync(cancellationToken);
        foreach (var candidate in candidates.Where(c => !busy.Contains(c.Owner)))
        {
            var expires = now + Options.LeaseDuration;
            var claimed = await db.Orders
                .Where(o => o.Id == candidate.Id && o.Status == OrderStatus.Pending && o.CompletionDate == null && (o.LeaseOwner == null || o.LeaseExpiresAt < now))
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.LeaseOwner, InstanceId).SetProperty(o => o.LeaseExpiresAt, expires).SetProperty(o => o.Version, o => o.Version + 1), cancellationToken);
            if (claimed == 1)
            {
                return candidate.Id;
            }
        }
        return null;
    }

    private async Task RunCompletionAsync(long orderId, CancellationToken stoppingToken)
    {
        using var renew = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewAsync(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var expires = Now + Options.LeaseDuration;
            return await db.Orders.Where(o => o.Id == orderId && o.LeaseOwner == InstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(o => o.LeaseExpiresAt, expires), ct) == 1;
        }, renew);
        try
        {
            await completion.CompleteAsync(orderId, renew.Token);
        }
        catch (OperationCanceledException)
        {
            logger.LogInformation("Completion of order {OrderId} interrupted; its lease will expire and it will be redone", orderId);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Completion of order {OrderId} crashed", orderId);
        }
        finally
        {
            await renew.CancelAsync();
            await renewal;
            signal.Wake();
        }
    }

    /// <summary>
    /// Claims up to <paramref name="count"/> queued sub-orders (or ones whose staging lease expired) respecting the
    /// per-user throttle, in fair order: application orders first, then the least recently served user, then the oldest.
    /// One read of the queue and of the users' active counts per batch; each claim is still its own conditional update.
    /// </summary>
    internal async Task<List<(long SubOrderId, long OrderId)>> ClaimSubOrdersAsync(int count, CancellationToken cancellationToken)
    {
        var claimed = new List<(long, long)>();
        var now = Now;
        var max = Options.MaxActiveSubOrdersPerUser;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var candidates = await db.SubOrders
            .Where(s => !s.External && (s.JobState == SubOrderJobState.Queued || (s.JobState == SubOrderJobState.Staging && s.LeaseExpiresAt < now))
                        && s.Order!.Status == OrderStatus.Running)
            .OrderByDescending(s => s.Priority).ThenBy(s => s.QueuedAt).ThenBy(s => s.Id)
            .Select(s => new { s.Id, s.OrderId, s.Owner, s.Priority }).Take(200).ToListAsync(cancellationToken);
        if (candidates.Count == 0)
        {
            return claimed;
        }
        var active = await db.SubOrders
            .Where(s => !s.External && ((s.JobState == SubOrderJobState.Staging && s.LeaseExpiresAt >= now) || s.JobState == SubOrderJobState.Staged))
            .GroupBy(s => s.Owner).Select(g => new { Owner = g.Key, Count = g.Count() })
            .ToDictionaryAsync(x => x.Owner, x => x.Count, cancellationToken);
        var ordered = candidates
            .OrderByDescending(c => c.Priority)
            .ThenBy(c => lastServed.GetValueOrDefault(c.Owner, DateTime.MinValue))
            .ToList();
        foreach (var candidate in ordered)
        {
            if (claimed.Count >= count)
            {
                break;
            }
            var owner = candidate.Owner;
            if (active.GetValueOrDefault(owner) >= max)
            {
                continue; // this user's slots are full, counting the ones claimed in this batch
            }
            var expires = now + Options.LeaseDuration;
            // The throttle is part of the claim: another instance cannot push the user over the limit between our read and write.
            var won = await db.SubOrders
                .Where(s => s.Id == candidate.Id
                            && (s.JobState == SubOrderJobState.Queued || (s.JobState == SubOrderJobState.Staging && s.LeaseExpiresAt < now))
                            && db.SubOrders.Count(x => x.Owner == owner && !x.External &&
                                ((x.JobState == SubOrderJobState.Staging && x.LeaseExpiresAt >= now) || x.JobState == SubOrderJobState.Staged)) < max)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(x => x.JobState, SubOrderJobState.Staging)
                    .SetProperty(x => x.LeaseOwner, InstanceId)
                    .SetProperty(x => x.LeaseExpiresAt, expires)
                    .SetProperty(x => x.StagingStartedAt, now)
                    .SetProperty(x => x.Attempts, x => x.Attempts + 1)
                    .SetProperty(x => x.Version, x => x.Version + 1), cancellationToken);
            if (won == 1)
            {
                lastServed[owner] = now;
                active[owner] = active.GetValueOrDefault(owner) + 1;
                claimed.Add((candidate.Id, candidate.OrderId));
            }
        }
        return claimed;
    }

    private async Task RunStagingAsync(long subOrderId, long orderId, CancellationToken stoppingToken)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cancel.CancelAfter(Options.StagingTimeout);
        var job = new StagingJob(subOrderId, orderId, cancel);
        staging[subOrderId] = job;
        using var renewStop = new CancellationTokenSource();
        var renewal = RenewAsync(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var expires = Now + Options.LeaseDuration;
            // Also the cross-instance pause check: the lease is only renewed while the order still runs.
            var renewed = await db.SubOrders.Where(s => s.Id == subOrderId && s.LeaseOwner == InstanceId && s.JobState == SubOrderJobState.Staging && s.Order!.Status == OrderStatus.Running)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseExpiresAt, expires), ct) == 1;
            if (!renewed)
            {
                job.PauseRequested = true;
                await cancel.CancelAsync();
            }
            return renewed;
        }, renewStop);

        try
        {
            var choice = await StageFilesAsync(subOrderId, orderId, cancel.Token);
            if (choice is not null)
            {
                await processing.RunAsync(orderId, subOrderId, choice, cancel.Token);
                await ReleaseAsync(subOrderId, SubOrderJobState.Staged);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: give the job back at once so the next instance does not wait for the lease.
            await ReleaseAsync(subOrderId, SubOrderJobState.Queued);
        }
        catch (OperationCanceledException) when (job.PauseRequested)
        {
            await ReleaseAsync(subOrderId, SubOrderJobState.Suspended);
            logger.LogInformation("Staging of sub-order {SubOrderId} stopped (order {OrderId} paused or ended)", subOrderId, orderId);
        }
        catch (OperationCanceledException)
        {
            await MarkPendingAsync(subOrderId, OrderFileState.Error, $"Staging (and processing, if any) timed out after {Options.StagingTimeout}.");
            await ReleaseAsync(subOrderId, SubOrderJobState.Staged);
            logger.LogWarning("Staging of sub-order {SubOrderId} timed out", subOrderId);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Staging of sub-order {SubOrderId} failed", subOrderId);
            await MarkPendingAsync(subOrderId, OrderFileState.Error, "Staging failed: " + e.Message);
            await ReleaseAsync(subOrderId, SubOrderJobState.Staged);
        }
        finally
        {
            staging.TryRemove(subOrderId, out _);
            await renewStop.CancelAsync();
            await renewal;
        }
        await progress.RefreshAsync(orderId);
        signal.Wake();
    }

    /// <summary>
    /// Stages the sub-order's PENDING files. Without a processing, the files' new states and the release of the job
    /// are one transaction (one commit per sub-order) and null is returned. With one, the staged inputs stay
    /// PENDING (the processing's outputs become the order's files), the job is kept, and the choice is returned.
    /// </summary>
    private async Task<Basket.ProcessingChoice?> StageFilesAsync(long subOrderId, long orderId, CancellationToken cancellationToken)
    {
        Basket.ProcessingChoice? choice;
        List<(long Id, StorageFileRef Ref)> files;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            choice = await db.SubOrders.Where(s => s.Id == subOrderId)
                .Join(db.DatasetTasks, s => s.DatasetTaskId, t => t.Id, (s, t) => t.Processing).FirstOrDefaultAsync(cancellationToken);
            files = (await db.OrderFiles.AsNoTracking().Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
                    .Select(f => new { f.Id, f.Tier, f.Location, f.Size, f.Checksum }).ToListAsync(cancellationToken))
                .Select(f => (f.Id, new StorageFileRef(f.Tier, f.Location, f.Size, f.Checksum))).ToList();
        }
        var outcomes = files.Count == 0 ? [] : await storage.StageAsync(orderId, files.Select(f => f.Ref).ToList(), cancellationToken);
        var available = choice is not null ? [] : files.Where((_, i) => outcomes[i].Success).Select(f => f.Id).ToList();
        var failed = files.Select((f, i) => (f.Id, outcomes[i])).Where(x => !x.Item2.Success).GroupBy(x => x.Item2.Error ?? "Storage error");

        await using var write = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await using var transaction = await write.Database.BeginTransactionAsync(CancellationToken.None);
        foreach (var chunk in available.Chunk(500))
        {
            await write.OrderFiles.Where(f => chunk.Contains(f.Id) && f.State == OrderFileState.Pending)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Available).SetProperty(f => f.Version, f => f.Version + 1));
        }
        foreach (var group in failed)
        {
            var message = group.Key;
            foreach (var chunk in group.Select(x => x.Id).Chunk(500))
            {
                await write.OrderFiles.Where(f => chunk.Contains(f.Id) && f.State == OrderFileState.Pending)
                    .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Error).SetProperty(f => f.DownloadError, message).SetProperty(f => f.Version, f => f.Version + 1));
            }
        }
        if (choice is null)
        {
            await ReleaseAsync(write, subOrderId, SubOrderJobState.Staged);
        }
        await transaction.CommitAsync(CancellationToken.None);
        return choice;
    }

    private async Task MarkPendingAsync(long subOrderId, OrderFileState state, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.OrderFiles.Where(f => f.SubOrderId == subOrderId && f.State == OrderFileState.Pending)
            .ExecuteUpdateAsync(s => s.SetProperty(f => f.State, state).SetProperty(f => f.DownloadError, message).SetProperty(f => f.Version, f => f.Version + 1));
    }

    private async Task ReleaseAsync(long subOrderId, SubOrderJobState state)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await ReleaseAsync(db, subOrderId, state);
    }

    private Task ReleaseAsync(PortalDbContext db, long subOrderId, SubOrderJobState state) =>
        db.SubOrders.Where(s => s.Id == subOrderId && s.LeaseOwner == InstanceId)
            .ExecuteUpdateAsync(s => s
                .SetProperty(x => x.JobState, state)
                .SetProperty(x => x.LeaseOwner, (string?)null)
                .SetProperty(x => x.LeaseExpiresAt, (DateTime?)null)
                .SetProperty(x => x.Version, x => x.Version + 1));

    private async Task RenewAsync(Func<CancellationToken, Task<bool>> renew, CancellationTokenSource stop)
    {
        var period = Options.LeaseDuration / 3;
        try
        {
            while (true)
            {
                // Most jobs end before their first renewal: ending the wait must not cost an exception each time.
                await Task.Delay(period, time, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (stop.IsCancellationRequested || !await renew(stop.Token))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "Lease renewal failed");
        }
    }
}
