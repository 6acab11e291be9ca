using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using MimeKit;
using Regards.Portal.Data;

namespace Regards.Portal.Notifications;

/// <summary>A message waiting to be sent: the whole MIME text, and where its delivery stands.</summary>
public class OutboxMail
{
    public long Id { get; set; }
    public required string To { get; set; }
    public required string Subject { get; set; }

    /// <summary>The message as it will be sent (MIME, headers included).</summary>
    public required string Message { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }

    /// <summary>Set when the last attempt allowed failed: kept for the administrator, no longer retried.</summary>
    public bool GaveUp { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }
}

/// <param name="Failing">Queued mails whose last attempt failed and that will be tried again.</param>
/// <param name="GivenUp">Mails given up after their last attempt (kept with their error).</param>
public sealed record OutboxStats(int Failing, int GivenUp);

/// <summary>Wakes the outbox sender when a message is queued, instead of waiting for its next poll.</summary>
public sealed class MailOutboxSignal : Infrastructure.WakeSignal;

/// <summary>
/// Queues e-mails in the database; <see cref="MailOutboxSender"/> delivers them. Whoever sends a mail (the engine
/// when a sub-order is ready, the expiry sweep) only writes a row: a slow or unreachable SMTP server never holds
/// up order processing, and a message that could not be sent is retried instead of lost.
/// </summary>
public sealed class MailOutbox(IDbContextFactory<PortalDbContext> dbFactory, MailOutboxSignal signal, Operations.PortalMetrics metrics, IOptions<MailOptions> options, TimeProvider time)
{
    /// <summary>Queues a mail on its own.</summary>
    public async Task EnqueueAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        Add(db, message);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Adds the mail to the caller's context: the caller's save queues it together with the change it announces,
    /// so a crash or a failed save never leaves one without the other. The sender is woken once the save is done.
    /// </summary>
    public void Add(PortalDbContext db, MimeMessage message)
    {
        message.From.Clear();
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        // A message in memory: writing it does no I/O.
        using var text = new MemoryStream();
        message.WriteTo(text);
        var now = time.GetUtcNow().UtcDateTime;
        db.OutboxMails.Add(new OutboxMail
        {
            To = Truncate(message.To.ToString(), 320), Subject = Truncate(message.Subject ?? "", 500),
            Message = Encoding.UTF8.GetString(text.GetBuffer(), 0, (int)text.Length), CreatedAt = now, NextAttemptAt = now,
        });
        db.SavedChanges -= WakeSender;
        db.SavedChanges += WakeSender;
        metrics.MailQueued();
    }

    private void WakeSender(object? sender, SavedChangesEventArgs e) => signal.Wake();

    /// <summary>Where delivery stands: how many queued mails failed at least once and will be tried again, and how many were given up.</summary>
    public async Task<OutboxStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var failing = await db.OutboxMails.CountAsync(m => m.Attempts > 0 && !m.GaveUp, cancellationToken);
        var givenUp = await db.OutboxMails.CountAsync(m => m.GaveUp, cancellationToken);
        return new OutboxStats(failing, givenUp);
    }

    /// <summary>Gives the given-up mails a new series of attempts (once the mail server is fixed); returns how many.</summary>
    public async Task<int> RetryGivenUpAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var count = await db.OutboxMails.Where(m => m.GaveUp)
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.GaveUp, false).SetProperty(m => m.Attempts, 0).SetProperty(m => m.NextAttemptAt, now), cancellationToken);
        if (count > 0)
        {
            signal.Wake();
        }
        return count;
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}

/// <summary>
/// Delivers queued e-mails (hosted service): claims due messages with a lease (so two instances never send one
/// twice, and a crashed instance's claims are taken over), sends each, deletes it once sent; a failure is retried
/// later with a doubling delay, up to <see cref="MailOptions.MaxAttempts"/>.
/// </summary>
public sealed class MailOutboxSender(
    IDbContextFactory<PortalDbContext> dbFactory,
    MailSender sender,
    MailOutboxSignal signal,
    Operations.PortalMetrics metrics,
    IOptions<MailOptions> options,
    TimeProvider time,
    ILogger<MailOutboxSender> logger) : BackgroundService
{
    private const int Batch = 100;

    // After a wake-up, let a burst gather (a big order's sub-orders all ready together): a few passes instead of one per message.
    private static readonly TimeSpan Gather = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Lease = TimeSpan.FromMinutes(5);
    private readonly string instanceId = Infrastructure.LeaseOwnerId.New();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await SendDueAsync(stoppingToken) == Batch)
                {
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Mail outbox pass failed; retrying");
            }
            try
            {
                if (await signal.WaitAsync(options.Value.OutboxPollInterval, stoppingToken))
                {
                    await Task.Delay(Gather, time, stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Sends the messages due now (one batch); returns how many were claimed.</summary>
    /// <remarks>Two writes per batch, whatever its size: one claim, one delete of what was sent (failures are
    /// updated one by one). The database's writer is shared with the engine; a write per message would slow it.</remarks>
    internal async Task<int> SendDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var expires = now + Lease;
        // This pass's own mark: the rows it won are the ones carrying it afterwards.
        var claim = $"{instanceId}:{Guid.NewGuid().ToString("N")[..8]}";
        List<OutboxMail> claimed;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var due = await db.OutboxMails
                .Where(m => !m.GaveUp && m.NextAttemptAt <= now && (m.LeaseOwner == null || m.LeaseExpiresAt < now))
                .OrderBy(m => m.NextAttemptAt).ThenBy(m => m.Id).Select(m => m.Id).Take(Batch).ToListAsync(cancellationToken);
            if (due.Count == 0)
            {
                return 0;
            }
            await db.OutboxMails.Where(m => due.Contains(m.Id) && !m.GaveUp && (m.LeaseOwner == null || m.LeaseExpiresAt < now))
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LeaseOwner, claim).SetProperty(m => m.LeaseExpiresAt, expires), cancellationToken);
            claimed = await db.OutboxMails.AsNoTracking().Where(m => m.LeaseOwner == claim).OrderBy(m => m.Id).ToListAsync(cancellationToken);
        }
        var sent = new List<long>();
        try
        {
            foreach (var mail in claimed)
            {
                if (await SendOneAsync(mail, cancellationToken))
                {
                    sent.Add(mail.Id);
                }
            }
        }
        finally
        {
            // Even when stopping: what was sent must not be sent again.
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.OutboxMails.Where(m => sent.Contains(m.Id)).ExecuteDeleteAsync(CancellationToken.None);
            metrics.MailsSent(sent.Count);
        }
        return claimed.Count;
    }

    /// <summary>True when sent; a failure is counted on the row, which is released for a later attempt.</summary>
    private async Task<bool> SendOneAsync(OutboxMail mail, CancellationToken cancellationToken)
    {
        try
        {
            using var text = new MemoryStream(Encoding.UTF8.GetBytes(mail.Message));
            var message = await MimeMessage.LoadAsync(text, cancellationToken);
            await sender.SendAsync(message, cancellationToken);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var settings = options.Value;
            var attempts = mail.Attempts + 1;
            var error = e.Message.Length > 1000 ? e.Message[..1000] : e.Message;
            var gaveUp = attempts >= settings.MaxAttempts;
            // 1, 2, 4... times the first delay, at most an hour apart.
            var delay = settings.RetryDelay * Math.Pow(2, Math.Min(attempts - 1, 16));
            var next = time.GetUtcNow().UtcDateTime + (delay < TimeSpan.FromHours(1) ? delay : TimeSpan.FromHours(1));
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.OutboxMails.Where(m => m.Id == mail.Id).ExecuteUpdateAsync(s => s
                .SetProperty(m => m.Attempts, attempts)
                .SetProperty(m => m.LastError, error)
                .SetProperty(m => m.GaveUp, gaveUp)
                .SetProperty(m => m.NextAttemptAt, next)
                .SetProperty(m => m.LeaseOwner, (string?)null)
                .SetProperty(m => m.LeaseExpiresAt, (DateTime?)null), CancellationToken.None);
            if (gaveUp)
            {
                metrics.MailGivenUp();
                logger.LogError(e, "Mail \"{Subject}\" to {To} given up after {Attempts} attempts", mail.Subject, mail.To, attempts);
            }
            else
            {
                logger.LogWarning("Mail \"{Subject}\" to {To} not sent ({Error}); attempt {Attempts}, retried at {Next:u}", mail.Subject, mail.To, error, attempts, next);
            }
            return false;
        }
    }
}
