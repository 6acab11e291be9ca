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
/// <para>
/// On SQLite an idle engine does not query: it claims when woken, when one of its jobs ended, when the database changed
/// since its last claim (<see cref="DatabaseChanges"/>), and at least every sixth of a lease, for the leases of a dead
/// instance that expire with no commit (taken over 5 s later at most, with 30 s leases).
/// </para>
/// </summary>
public sealed class OrderEngine(
    IDbContextFactory<PortalDbContext> dbFactory,
    IFileStorage storage,
    OrderCompletion completion,
    OrderProgress progress,
    Processing.ProcessingRunner processing,
    EngineSignal signal,
    DatabaseChanges databaseChanges,
    Operations.EngineHeartbeat heartbeat,
    Operations.PortalMetrics metrics,
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
        await progress.RecoverAsync(stoppingToken);
        var completions = new List<Task>();
        var stagings = new List<Task>();
        var woken = true;
        long? claimedAtVersion = null;
        var claimedAt = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            heartbeat.Beat();
            try
            {
                var ended = completions.RemoveAll(t => t.IsCompleted) + stagings.RemoveAll(t => t.IsCompleted);
                // Asked before claiming: a commit made meanwhile (the claims' own too) makes the next turn claim again.
                var version = databaseChanges.Version();
                if (woken || ended > 0 || version is null || version != claimedAtVersion || Now - claimedAt >= Options.LeaseDuration / 6)
                {
                    claimedAtVersion = null;
                    claimedAt = Now;
                    await ClaimAsync(completions, stagings, stoppingToken);
                    claimedAtVersion = version;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Order engine loop failed; retrying");
            }
            try
            {
                woken = await signal.WaitAsync(Options.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        await Task.WhenAll(completions.Concat(stagings).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    /// <summary>Starts what can be claimed: PENDING orders to complete, then sub-orders to stage, within the limits.</summary>
    private async Task ClaimAsync(List<Task> completions, List<Task> stagings, CancellationToken stoppingToken)
    {
        while (completions.Count < MaxParallelCompletions && await ClaimCompletionAsync(stoppingToken) is { } orderId)
        {
            completions.Add(RunCompletionAsync(orderId, stoppingToken));
        }
        stagings.RemoveAll(t => t.IsCompleted);
        if (stagings.Count < Options.MaxParallelStaging)
        {
            var claimed = await ClaimSubOrdersAsync(Options.MaxParallelStaging - stagings.Count, stoppingToken);
            foreach (var job in claimed)
            {
                stagings.Add(RunStagingAsync(job.SubOrderId, job.OrderId, stoppingToken));
            }
            if (claimed.Count > 0)
            {
                await progress.AnnounceAsync(claimed.Select(j => j.OrderId).Distinct().ToList(), stoppingToken);
            }
        }
    }

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    /// <summary>Claims one PENDING order to complete, one per user at a time.</summary>
    internal async Task<long?> ClaimCompletionAsync(CancellationToken cancellationToken)
    {
        var now = Now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var candidates = await db.Orders
            .Where(o => o.Status == OrderStatus.Pending && o.CompletionDate == null && (o.LeaseOwner == null || o.LeaseExpiresAt < now))
            .OrderBy(o => o.Id).Select(o => new { o.Id, o.Owner, o.CompletionAttempts, o.LeaseOwner }).Take(20).ToListAsync(cancellationToken);
        foreach (var broken in candidates.Where(c => c.CompletionAttempts >= Order.MaxCompletionAttempts))
        {
            await completion.GiveUpAsync(broken.Id, cancellationToken);
        }
        candidates.RemoveAll(c => c.CompletionAttempts >= Order.MaxCompletionAttempts);
        if (candidates.Count == 0)
        {
            return null;
        }
        var busy = await db.Orders.Where(o => o.Status == OrderStatus.Pending && o.LeaseOwner != null && o.LeaseExpiresAt >= now)
            .Select(o => o.Owner).Distinct().ToListAsync(cancellationToken);
        foreach (var candidate in candidates.Where(c => !busy.Contains(c.Owner)))
        {
            if (await OrderBulk.TryClaimCompletionAsync(db, candidate.Id, InstanceId, now, now + Options.LeaseDuration, cancellationToken))
            {
                if (candidate.LeaseOwner is not null)
                {
                    metrics.LeaseTakenOver("completion");
                }
                return candidate.Id;
            }
        }
        return null;
    }

    private async Task RunCompletionAsync(long orderId, CancellationToken stoppingToken)
    {
        using var activity = Operations.PortalTelemetry.StartOrderActivity("order.completion", orderId);
        using var renew = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var renewal = RenewAsync(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            return await OrderBulk.RenewCompletionLeaseAsync(db, orderId, InstanceId, Now + Options.LeaseDuration, ct);
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
            .Select(s => new { s.Id, s.OrderId, s.Owner, s.Priority, s.JobState }).Take(200).ToListAsync(cancellationToken);
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
            var won = await OrderBulk.TryClaimSubOrderAsync(db, candidate.Id, owner, InstanceId, now, now + Options.LeaseDuration, max, cancellationToken);
            if (won)
            {
                lastServed[owner] = now;
                if (candidate.JobState == SubOrderJobState.Staging)
                {
                    metrics.LeaseTakenOver("staging");
                }
                active[owner] = active.GetValueOrDefault(owner) + 1;
                claimed.Add((candidate.Id, candidate.OrderId));
            }
        }
        return claimed;
    }

    private async Task RunStagingAsync(long subOrderId, long orderId, CancellationToken stoppingToken)
    {
        using var activity = Operations.PortalTelemetry.StartOrderActivity("suborder.staging", orderId, subOrderId);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        cancel.CancelAfter(Options.StagingTimeout);
        var job = new StagingJob(subOrderId, orderId, cancel);
        staging[subOrderId] = job;
        using var renewStop = new CancellationTokenSource();
        var renewal = RenewAsync(async ct =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            // Also the cross-instance pause check: the lease is only renewed while the order still runs.
            var renewed = await OrderBulk.RenewStagingLeaseAsync(db, subOrderId, InstanceId, Now + Options.LeaseDuration, ct);
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
                await WriteProcessingResultAsync(orderId, subOrderId, await processing.RunAsync(orderId, subOrderId, choice, cancel.Token));
                await ReleaseAsync(subOrderId, SubOrderAction.Staged);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: give the job back at once so the next instance does not wait for the lease.
            await ReleaseAsync(subOrderId, SubOrderAction.GiveBack);
        }
        catch (OperationCanceledException) when (job.PauseRequested)
        {
            await ReleaseAsync(subOrderId, SubOrderAction.StopStaging);
            logger.LogInformation("Staging of sub-order {SubOrderId} stopped (order {OrderId} paused or ended)", subOrderId, orderId);
        }
        catch (OperationCanceledException)
        {
            await MarkPendingAsync(subOrderId, OrderFileState.Error, $"Staging (and processing, if any) timed out after {Options.StagingTimeout}.");
            await ReleaseAsync(subOrderId, SubOrderAction.Staged);
            logger.LogWarning("Staging of sub-order {SubOrderId} timed out", subOrderId);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Staging of sub-order {SubOrderId} failed", subOrderId);
            // The user reads the file's error: the exception's text (paths, SQL) stays in the log.
            await MarkPendingAsync(subOrderId, OrderFileState.Error, "Staging failed (internal error); the administrator can see it in the portal's logs.");
            await ReleaseAsync(subOrderId, SubOrderAction.Staged);
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
        var failed = files.Select((f, i) => (f.Id, Outcome: outcomes[i])).Where(x => !x.Outcome.Success).GroupBy(x => x.Outcome.Error ?? "Storage error", x => x.Id).ToList();

        await using var write = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await using var transaction = await write.Database.BeginTransactionAsync(CancellationToken.None);
        await OrderBulk.MarkStagedAsync(write, subOrderId, InstanceId, available, failed);
        if (choice is null)
        {
            await OrderBulk.ReleaseSubOrderAsync(write, subOrderId, InstanceId, SubOrderAction.Staged);
        }
        await transaction.CommitAsync(CancellationToken.None);
        return choice;
    }

    private async Task MarkPendingAsync(long subOrderId, OrderFileState state, string message)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await OrderBulk.FailPendingFilesAsync(db, subOrderId, InstanceId, state, message);
    }

    /// <summary>The processing's outputs replace its inputs, or its inputs end in PROCESSING_ERROR; outputs not kept are deleted.</summary>
    private async Task WriteProcessingResultAsync(long orderId, long subOrderId, Processing.ProcessingResult result)
    {
        if (result.Failure is { } failure)
        {
            await MarkPendingAsync(subOrderId, OrderFileState.ProcessingError, failure);
            return;
        }
        if (result.InputIds.Count == 0)
        {
            return;
        }
        await using var db = await dbFactory.CreateDbContextAsync();
        if (!await OrderBulk.ReplaceInputsAsync(db, orderId, subOrderId, InstanceId, result.InputIds, result.Outputs))
        {
            logger.LogInformation("Outputs of sub-order {SubOrderId} dropped: its inputs changed during the processing", subOrderId);
            processing.DiscardOutputs(orderId, result.Outputs.Select(o => o.Location));
        }
    }

    private async Task ReleaseAsync(long subOrderId, SubOrderAction action)
    {
        await using var db = await dbFactory.CreateDbContextAsync();
        await OrderBulk.ReleaseSubOrderAsync(db, subOrderId, InstanceId, action);
    }

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
