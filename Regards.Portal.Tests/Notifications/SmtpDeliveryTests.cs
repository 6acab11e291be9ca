using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Regards.Portal.Tests.Infrastructure;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;
using static Regards.Portal.Tests.Notifications.MailTestKit;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Notifications;

/// <summary>A real SMTP server on 127.0.0.1 (the SmtpServer package) that keeps what it receives.</summary>
internal sealed class TestSmtpServer : IDisposable
{
    public sealed record Received(string MailFrom, IReadOnlyList<string> RcptTo, MimeMessage Message);

    private sealed class Store(ConcurrentQueue<Received> received) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            var message = await MimeMessage.LoadAsync(stream, cancellationToken);
            received.Enqueue(new Received(transaction.From.AsAddress(), transaction.To.Select(t => t.AsAddress()).ToList(), message));
            return SmtpResponse.Ok;
        }
    }

    private readonly ConcurrentQueue<Received> received = new();
    private CancellationTokenSource? running;
    private Task? listening;

    /// <summary>A port free now on the loopback: nothing listens on it until <see cref="StartAsync"/>.</summary>
    public int Port { get; }

    public TestSmtpServer()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
    }

    public IReadOnlyList<Received> Messages => received.ToList();

    public IReadOnlyList<Received> WithSubject(string subject) => received.Where(r => r.Message.Subject == subject).ToList();

    public async Task StartAsync()
    {
        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, Port))).Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(received));
        running = new CancellationTokenSource();
        listening = new SmtpServer.SmtpServer(options, services).StartAsync(running.Token);
        // Listening once a connection is accepted.
        await WaitAsync(async () =>
        {
            using var probe = new TcpClient();
            try
            {
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return true;
            }
            catch (SocketException)
            {
                return false;
            }
        }, 10, "the SMTP server listens");
    }

    public void Dispose()
    {
        running?.Cancel();
        try
        {
            listening?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled on purpose.
        }
        running?.Dispose();
    }
}

/// <summary>Order e-mails delivered over SMTP (MailKit) to a real server on a TCP socket, and kept while it is down.</summary>
public sealed class SmtpDeliveryTests : IDisposable
{
    private const string From = "orders@portal.test";
    private readonly TestSmtpServer smtp = new();
    private readonly PortalAppFactory factory = new();

    public SmtpDeliveryTests()
    {
        factory.Settings["Mail:SmtpHost"] = "127.0.0.1";
        factory.Settings["Mail:SmtpPort"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        factory.Settings["Mail:Security"] = "None";
        factory.Settings["Mail:From"] = From;
        factory.Settings["Mail:RetryDelay"] = "00:00:00.200";
        factory.Settings["Mail:OutboxPollInterval"] = "00:00:00.100";
    }

    public void Dispose()
    {
        factory.Dispose();
        smtp.Dispose();
    }

    private static readonly object SmallSwot = new { datasetId = Swot, q = "SSH_001_01" };

    [Fact]
    public async Task The_order_created_mail_is_sent_over_smtp_to_the_owner_from_the_configured_sender()
    {
        await smtp.StartAsync();
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, SmallSwot);
        var orderId = (await CreateOrderAsync(client, "over-smtp")).Id();

        await WaitAsync(() => Task.FromResult(smtp.WithSubject(Created("over-smtp")).Count > 0), 20, "the created mail over SMTP");
        await factory.OutboxDrainedAsync();
        var received = Assert.Single(smtp.WithSubject(Created("over-smtp")));
        Assert.Equal(From, received.MailFrom);
        Assert.Equal([DemoUsers.User], received.RcptTo);
        var message = received.Message;
        Assert.Equal(DemoUsers.User, Assert.Single(message.To.Mailboxes).Address);
        Assert.Equal(From, Assert.Single(message.From.Mailboxes).Address);
        Assert.Contains($"(#{orderId}) was created", message.TextBody);
        Assert.Contains("<a href=\"http://localhost:5080/api/user/orders/metalink/download?orderToken=", message.HtmlBody);
        // The e-mailed link opens the order's metalink.
        using var metalink = await factory.CreateAnonymousClient().GetAsync(PathAndQuery(Assert.Single(MetalinkLinks(message))));
        Assert.Equal(HttpStatusCode.OK, metalink.StatusCode);
        // Metalink 3, as REGARDS mails it.
        Assert.Equal("application/metalink+xml", metalink.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task A_mail_is_kept_while_the_smtp_server_refuses_connections_and_sent_once_when_it_listens()
    {
        // Nothing listens on the port yet: every connection is refused.
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, SmallSwot);
        await CreateOrderAsync(client, "smtp-down");

        async Task<OutboxMailState?> RowAsync()
        {
            await using var db = factory.CreateDbContext();
            return await db.OutboxMails.Where(m => m.Subject == Created("smtp-down"))
                .Select(m => new OutboxMailState(m.Attempts, m.LastError, m.GaveUp)).SingleOrDefaultAsync();
        }
        await WaitAsync(async () => (await RowAsync())?.Attempts >= 1, 20, "a failed SMTP attempt counted on the outbox row");
        var failing = await RowAsync();
        Assert.False(failing!.GaveUp);
        Assert.False(string.IsNullOrEmpty(failing.LastError));
        Assert.Empty(smtp.Messages);

        await smtp.StartAsync();
        await WaitAsync(async () => await RowAsync() is null, 20, "the mail sent and removed from the outbox");
        await factory.OutboxDrainedAsync();
        var received = Assert.Single(smtp.WithSubject(Created("smtp-down")));
        Assert.Equal([DemoUsers.User], received.RcptTo);
        Assert.Single(MetalinkLinks(received.Message));
    }

    private sealed record OutboxMailState(int Attempts, string? LastError, bool GaveUp);
}
