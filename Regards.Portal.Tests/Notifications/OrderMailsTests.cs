using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using MimeKit;
using Regards.Portal.Admin;
using Regards.Portal.Data;
using Regards.Portal.Notifications;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Notifications.MailTestKit;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Notifications;

/// <summary>
/// The order e-mails and the order sweeper on the real app: orders made over HTTP, the real engine, sweeper and
/// outbox sender, messages read back from the pickup folder.
/// </summary>
public sealed class OrderMailsTests : IDisposable
{
    private readonly PortalAppFactory factory = new();

    public OrderMailsTests()
    {
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
        // Several orders of one user waiting for downloads at once (the per-user throttle would hold the third).
        factory.Settings["Orders:MaxActiveSubOrdersPerUser"] = "10";
        factory.Settings["Mail:OutboxPollInterval"] = "00:00:00.100";
        factory.Settings["Mail:RetryDelay"] = "00:00:00.200";
    }

    public void Dispose() => factory.Dispose();

    private OrderSweeper Sweeper => factory.Services.GetRequiredService<OrderSweeper>();

    private static readonly Regex SubOrderLine = new(@"Sub-order (\d+) of (\d+) of your order");

    [Fact]
    public async Task Each_sub_order_that_becomes_waiting_sends_one_files_available_mail_with_a_working_metalink_link()
    {
        // Nearline files staged with a real (short) latency, in sub-orders of 4 files, two at a time per user.
        factory.Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        factory.Settings["Orders:SubOrderMaxFiles"] = "4";
        factory.Settings["Orders:MaxActiveSubOrdersPerUser"] = "2";
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var created = await CreateOrderAsync(client, "split-in-sub-orders");
        var orderId = created.Id();

        // The user downloads (zip over HTTP) whatever waits: the throttle frees the slots and the next sub-orders stage.
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while ((await GetOrderAsync(client, orderId)).Status() != "DONE")
        {
            Assert.True(DateTime.UtcNow < deadline, "the order did not finish");
            if ((await GetOrderAsync(client, orderId)).GetProperty("waitingForUser").GetBoolean())
            {
                using var zip = await client.GetAsync($"/api/user/orders/{orderId}/download");
                Assert.True(zip.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"zip answered {zip.StatusCode}");
                await zip.Content.ReadAsByteArrayAsync();
            }
            await Task.Delay(50);
        }
        await factory.OutboxDrainedAsync();

        List<SubOrder> subOrders;
        await using (var db = factory.CreateDbContext())
        {
            subOrders = await db.SubOrders.AsNoTracking().Where(s => s.OrderId == orderId && !s.External).ToListAsync();
        }
        Assert.True(subOrders.Count >= 3, $"the order must be split into several sub-orders, got {subOrders.Count}");
        var staged = subOrders.Where(s => s.StagedAt is not null).Select(s => s.Sequence).Order().ToList();
        Assert.Equal(subOrders.Count, staged.Count);

        var mails = await factory.PickedUpAsync(Available("split-in-sub-orders"));
        // One per sub-order that became waiting, none twice (the engine recomputed the order many times meanwhile).
        Assert.Equal(staged.Count, mails.Count);
        var sequences = mails.Select(m => SubOrderLine.Match(m.TextBody!)).Select(m =>
        {
            Assert.True(m.Success, "the mail names its sub-order");
            Assert.Equal(subOrders.Count, int.Parse(m.Groups[2].Value));
            return int.Parse(m.Groups[1].Value);
        }).Order().ToList();
        Assert.Equal(staged, sequences);
        foreach (var mail in mails)
        {
            Assert.Equal(DemoUsers.User, Assert.Single(mail.To.Mailboxes).Address);
            var link = Assert.Single(MetalinkLinks(mail));
            Assert.Contains("orderToken=", link);
            Assert.EndsWith("&notReady=503", link);
        }
        // The link opens the order's metalink (Metalink 3, as REGARDS mails it) without signing in.
        var metalink = XDocument.Parse(await factory.CreateAnonymousClient().GetStringAsync(PathAndQuery(MetalinkLinks(mails[0])[0])));
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal(await db.OrderFiles.CountAsync(f => f.OrderId == orderId), metalink.Descendants(XName.Get("file", Regards.Portal.Downloads.MetalinkWriter.V3Namespace)).Count());
        }
    }

    /// <summary>Frees the sweep's lease, as the next hourly pass would find it, and runs a full sweep.</summary>
    private async Task SweepNowAsync()
    {
        await using (var db = factory.CreateDbContext())
        {
            await db.JobLeases.Where(l => l.Name == "orders-expiry")
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAt, DateTime.MinValue.ToUniversalTime()));
        }
        await Sweeper.SweepAsync(CancellationToken.None);
    }

    private async Task SetExpirationAsync(long orderId, DateTime expiration)
    {
        await using var db = factory.CreateDbContext();
        Assert.Equal(1, await db.Orders.Where(o => o.Id == orderId)
            .ExecuteUpdateAsync(s => s.SetProperty(o => o.ExpirationDate, expiration).SetProperty(o => o.Version, o => o.Version + 1)));
    }

    private async Task<Order> OrderRowAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.Orders.AsNoTracking().SingleAsync(o => o.Id == orderId);
    }

    private static readonly object SmallSwot = new { datasetId = Swot, q = "SSH_001_01" };

    [Fact]
    public async Task An_order_with_available_files_expiring_within_a_day_is_warned_once_and_only_that_order()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var soon = (await OrderUntilDoneAsync(client, SmallSwot, "expires-soon")).Id();
        var later = (await OrderUntilDoneAsync(client, SmallSwot, "expires-later")).Id();
        var emptied = (await OrderUntilDoneAsync(client, SmallSwot, "all-downloaded")).Id();

        // The user downloaded every file of one of them: nothing left to warn about.
        List<long> available;
        await using (var db = factory.CreateDbContext())
        {
            available = await db.OrderFiles.Where(f => f.OrderId == emptied && f.State == OrderFileState.Available).Select(f => f.Id).ToListAsync();
        }
        Assert.NotEmpty(available);
        await factory.Services.GetRequiredService<IOrderFileEvents>().FilesDownloadedAsync(emptied, available);
        Assert.Equal(0, (await OrderRowAsync(emptied)).AvailableFilesCount);
        Assert.True((await OrderRowAsync(soon)).AvailableFilesCount > 0);

        var now = DateTime.UtcNow;
        await SetExpirationAsync(soon, now.AddHours(12));
        await SetExpirationAsync(emptied, now.AddHours(12));
        await SetExpirationAsync(later, now.AddDays(3));

        await SweepNowAsync();
        await SweepNowAsync();
        await factory.OutboxDrainedAsync();

        var warning = Assert.Single(await factory.PickedUpAsync(ExpiresTomorrow("expires-soon")));
        Assert.Equal(DemoUsers.User, Assert.Single(warning.To.Mailboxes).Address);
        Assert.Contains($"(#{soon}) expires on", warning.TextBody);
        Assert.Single(MetalinkLinks(warning));
        Assert.Empty(await factory.PickedUpAsync(ExpiresTomorrow("expires-later")));
        Assert.Empty(await factory.PickedUpAsync(ExpiresTomorrow("all-downloaded")));
        Assert.True((await OrderRowAsync(soon)).ExpiryWarningSent);
        Assert.False((await OrderRowAsync(later)).ExpiryWarningSent);
        Assert.False((await OrderRowAsync(emptied)).ExpiryWarningSent);
        // Still live: the warning expires nothing.
        Assert.Equal(OrderStatus.Done, (await OrderRowAsync(soon)).Status);
    }

    [Fact]
    public async Task Files_waiting_longer_than_the_reminder_delay_send_one_reminder_per_user_listing_those_orders()
    {
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        var oldA = (await OrderUntilDoneAsync(user, SmallSwot, "waited-long-a")).Id();
        var oldB = (await OrderUntilDoneAsync(user, SmallSwot, "waited-long-b")).Id();
        var freshUser = (await OrderUntilDoneAsync(user, SmallSwot, "fresh-of-user")).Id();
        var freshGuest = (await OrderUntilDoneAsync(guest, SmallSwot, "fresh-of-guest")).Id();

        var delay = (await factory.Services.GetRequiredService<PortalSettingsService>().GetAsync(CancellationToken.None)).ReminderDelayHours;
        await using (var db = factory.CreateDbContext())
        {
            // Every order's files wait for its user; two of them since longer than the delay.
            foreach (var id in new[] { oldA, oldB, freshUser, freshGuest })
            {
                Assert.True(await db.SubOrders.AnyAsync(s => s.OrderId == id && s.WaitingForUser && !s.External), $"order {id} waits for its user");
            }
            Assert.True(await db.SubOrders.Where(s => s.OrderId == oldA || s.OrderId == oldB)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.StagedAt, DateTime.UtcNow.AddHours(-delay - 1)).SetProperty(x => x.Version, x => x.Version + 1)) >= 2);
        }
        await factory.OutboxDrainedAsync();
        Assert.Empty(await factory.PickedUpAsync(Reminder));

        await Sweeper.RemindAsync(CancellationToken.None);
        await factory.OutboxDrainedAsync();

        var reminder = Assert.Single(await factory.PickedUpAsync(Reminder));
        Assert.Equal(DemoUsers.User, Assert.Single(reminder.To.Mailboxes).Address);
        Assert.Contains($"\"waited-long-a\" (#{oldA})", reminder.TextBody);
        Assert.Contains($"\"waited-long-b\" (#{oldB})", reminder.TextBody);
        Assert.DoesNotContain("fresh-of-user", reminder.TextBody);
        Assert.Equal(2, MetalinkLinks(reminder).Count);
    }

    [Fact]
    public async Task Extending_an_order_mails_the_owner_links_valid_until_the_new_date()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var orderId = (await OrderUntilDoneAsync(client, SmallSwot, "to-extend")).Id();
        await factory.OutboxDrainedAsync();
        var createdLink = Assert.Single(MetalinkLinks(Assert.Single(await factory.PickedUpAsync(Created("to-extend")))));

        var later = DateTime.UtcNow.AddDays(40);
        var extended = await admin.PutAsJsonAsync($"/api/orders/{orderId}/expiration", new { expirationDate = later });
        Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        await factory.OutboxDrainedAsync();

        var mail = Assert.Single(await factory.PickedUpAsync(), m => m.Subject!.StartsWith("[REGARDS] Order \"to-extend\" now expires on", StringComparison.Ordinal));
        Assert.Equal(DemoUsers.User, mail.To.Mailboxes.Single().Address);
        Assert.Contains(later.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), mail.Subject);
        Assert.Contains("Links sent before stop working on", mail.TextBody);
        // A new token (it carries the new date), and it opens the order's metalink.
        var link = Assert.Single(MetalinkLinks(mail));
        Assert.NotEqual(createdLink, link);
        var metalink = await factory.CreateAnonymousClient().GetAsync(PathAndQuery(link));
        Assert.Equal(HttpStatusCode.OK, metalink.StatusCode);
    }

    [Fact]
    public async Task An_order_past_its_expiration_is_expired_and_its_files_and_links_no_longer_open()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var orderId = (await OrderUntilDoneAsync(client, SmallSwot, "to-expire")).Id();
        await factory.OutboxDrainedAsync();
        var createdMail = Assert.Single(await factory.PickedUpAsync(Created("to-expire")));
        var publicMetalink = PathAndQuery(Assert.Single(MetalinkLinks(createdMail)));
        var anonymous = factory.CreateAnonymousClient();

        // Live: the e-mailed link opens the metalink, and its file URLs open the files.
        var metalink = XDocument.Parse(await anonymous.GetStringAsync(publicMetalink));
        var fileUrl = PathAndQuery(metalink.Descendants().First(e => e.Name.LocalName == "url").Value);
        using (var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, fileUrl)))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/user/orders/{orderId}/metalink/download")).StatusCode);
        Assert.True((await OrderRowAsync(orderId)).ZippableFilesCount > 0);

        await SetExpirationAsync(orderId, DateTime.UtcNow.AddMinutes(-1));
        await Sweeper.ExpireAsync(CancellationToken.None);

        Assert.Equal("EXPIRED", (await GetOrderAsync(client, orderId)).Status());
        var row = await OrderRowAsync(orderId);
        Assert.Equal(0, row.AvailableFilesCount);
        Assert.False(row.WaitingForUser);
        await using (var db = factory.CreateDbContext())
        {
            Assert.Equal(0, await db.OrderFiles.CountAsync(f => f.OrderId == orderId));
            Assert.False(await db.SubOrders.AnyAsync(s => s.OrderId == orderId && (s.WaitingForUser || !s.Ended)));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(publicMetalink)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/user/orders/{orderId}/metalink/download")).StatusCode);
        using (var head = await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, fileUrl)))
        {
            Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        }
        // The zip endpoint answers "nothing to download" (204, as for an order without available files): no archive.
        using var zip = await client.GetAsync($"/api/user/orders/{orderId}/download");
        Assert.Equal(HttpStatusCode.NoContent, zip.StatusCode);
        Assert.Empty(await zip.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_mail_added_to_a_context_is_queued_only_if_that_context_saves()
    {
        // Deliveries fail while a file stands where the pickup folder should be: queued rows stay to be counted.
        var pickup = factory.PickupFolder();
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var orderId = (await OrderUntilDoneAsync(client, SmallSwot, "atomic")).Id();
        await factory.OutboxDrainedAsync();
        Directory.Delete(pickup, recursive: true);
        File.WriteAllText(pickup, "not a folder");

        var outbox = factory.Services.GetRequiredService<MailOutbox>();
        static MimeMessage Message(string subject)
        {
            var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = "About the order." } };
            message.To.Add(MailboxAddress.Parse(DemoUsers.User));
            return message;
        }
        async Task<List<OutboxMail>> RowsAsync(string subject)
        {
            await using var db = factory.CreateDbContext();
            return await db.OutboxMails.AsNoTracking().Where(m => m.Subject == subject).ToListAsync();
        }

        var elsewhere = DateTime.UtcNow.AddDays(10).Date;
        var here = DateTime.UtcNow.AddDays(20).Date;
        // A save that fails (the order changed meanwhile: concurrency conflict) queues nothing.
        await using (var stale = factory.CreateDbContext())
        {
            var order = await stale.Orders.SingleAsync(o => o.Id == orderId);
            await using (var other = factory.CreateDbContext())
            {
                var same = await other.Orders.SingleAsync(o => o.Id == orderId);
                same.ExtendExpiration(elsewhere, DateTime.UtcNow);
                await other.SaveChangesAsync();
            }
            order.ExtendExpiration(here, DateTime.UtcNow);
            outbox.Add(stale, Message("lost with its change"));
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => stale.SaveChangesAsync());
        }
        Assert.Empty(await RowsAsync("lost with its change"));
        Assert.Equal(elsewhere, (await OrderRowAsync(orderId)).ExpirationDate);

        // The same save succeeding queues exactly one row, with its change.
        await using (var fresh = factory.CreateDbContext())
        {
            var order = await fresh.Orders.SingleAsync(o => o.Id == orderId);
            order.ExtendExpiration(here, DateTime.UtcNow);
            outbox.Add(fresh, Message("queued with its change"));
            await fresh.SaveChangesAsync();
        }
        Assert.Equal(here, (await OrderRowAsync(orderId)).ExpirationDate);
        var queued = Assert.Single(await RowsAsync("queued with its change"));
        Assert.Equal(DemoUsers.User, queued.To);
        // The save woke the sender: it tried and failed (no pickup folder), the row stays for a retry.
        await WaitAsync(async () => (await RowsAsync("queued with its change")).SingleOrDefault()?.Attempts >= 1, 20, "a delivery attempt");

        File.Delete(pickup);
        await factory.OutboxDrainedAsync();
        var delivered = Assert.Single(await factory.PickedUpAsync("queued with its change"));
        Assert.Equal(DemoUsers.User, Assert.Single(delivered.To.Mailboxes).Address);
        Assert.Empty(await factory.PickedUpAsync("lost with its change"));
    }
}
