using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Regards.Portal.Notifications;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Notifications;

/// <summary>E-mails go through the database outbox: a message that cannot be delivered is kept and retried, never lost or sent twice.</summary>
public sealed class MailOutboxTests : IDisposable
{
    private readonly PortalAppFactory factory = new();
    private readonly string pickup;

    public MailOutboxTests()
    {
        pickup = Path.Combine(factory.DataPath, "pickup");
        factory.Settings["Mail:PickupFolder"] = pickup;
        factory.Settings["Mail:RetryDelay"] = "00:00:00.200";
        factory.Settings["Mail:OutboxPollInterval"] = "00:00:00.100";
        // A file where the pickup folder should be: every delivery fails until it is removed.
        Directory.CreateDirectory(factory.DataPath);
        File.WriteAllText(pickup, "not a folder");
    }

    public void Dispose() => factory.Dispose();

    private async Task<long> QueueAsync(string subject)
    {
        factory.CreateAnonymousClient();
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = "Files are ready." } };
        message.To.Add(MailboxAddress.Parse(DemoUsers.User));
        await factory.Services.GetRequiredService<MailOutbox>().EnqueueAsync(message, CancellationToken.None);
        await using var db = factory.CreateDbContext();
        return await db.OutboxMails.Where(m => m.Subject == subject).Select(m => m.Id).SingleAsync();
    }

    private async Task<OutboxMail?> RowAsync(long id)
    {
        await using var db = factory.CreateDbContext();
        return await db.OutboxMails.AsNoTracking().SingleOrDefaultAsync(m => m.Id == id);
    }

    [Fact]
    public async Task A_message_that_cannot_be_delivered_is_kept_retried_and_delivered_once_when_it_can()
    {
        var id = await QueueAsync("outbox retry");
        await WaitAsync(async () => (await RowAsync(id))?.Attempts >= 2, 20, "two failed attempts");
        var failing = await RowAsync(id);
        Assert.False(failing!.GaveUp);
        Assert.NotNull(failing.LastError);
        Assert.Contains("outbox retry", failing.Message);

        File.Delete(pickup);
        await WaitAsync(async () => await RowAsync(id) is null, 20, "the message delivered and removed from the outbox");
        var delivered = Directory.GetFiles(pickup);
        var eml = Assert.Single(delivered); // once, and no half-written file left
        Assert.EndsWith(".eml", eml);
        var message = await MimeMessage.LoadAsync(eml);
        Assert.Equal("outbox retry", message.Subject);
        Assert.Equal(DemoUsers.User, message.To.Mailboxes.Single().Address);
        Assert.Equal("regards-portal@regards.local", message.From.Mailboxes.Single().Address);
    }

    [Fact]
    public async Task A_message_is_given_up_after_the_last_attempt_and_kept_with_its_error()
    {
        factory.Settings["Mail:MaxAttempts"] = "2";
        var id = await QueueAsync("outbox give up");
        await WaitAsync(async () => (await RowAsync(id))?.GaveUp == true, 20, "the message given up");
        // A delivery pass now (what the sender's loop would do next) leaves a given-up message alone.
        var sender = factory.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<MailOutboxSender>().Single();
        await sender.SendDueAsync(CancellationToken.None);
        var row = await RowAsync(id);
        Assert.Equal(2, row!.Attempts);
        Assert.NotNull(row.LastError);
    }
}
