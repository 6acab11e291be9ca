using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Downloads;

/// <summary>One zip at a time per user, and a minimum data rate a test can wait for: 256 KB/s after a grace of 1 s.</summary>
public sealed class DownloadLimitsFactory : PortalAppFactory
{
    public DownloadLimitsFactory()
    {
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Downloads:MaxConcurrentZipsPerUser"] = "1";
        // Each test's order waits for the user with its files not downloaded: more than the default 2 at once.
        Settings["Orders:MaxActiveSubOrdersPerUser"] = "10";
        Settings["Downloads:MinResponseDataRate"] = "262144";
        Settings["Downloads:MinResponseDataRateGracePeriod"] = "00:00:01";
        StartKestrel();
    }
}

/// <summary>Issue 15 §6 and issue 18 §3: clients that open zips and never read cannot hold the server.</summary>
public sealed class DownloadLimitsTests(DownloadLimitsFactory factory, ITestOutputHelper output) : IClassFixture<DownloadLimitsFactory>
{
    private const string Owner = DemoUsers.User;

    private DownloadQuotas Quotas => factory.Services.GetRequiredService<DownloadQuotas>();

    /// <summary>A DONE order of four 12 MB raw files: its 48 MB zip cannot fit in the loopback buffers.</summary>
    private async Task<(HttpClient Client, long OrderId)> DoneOrderOfBigFilesAsync(string dataset)
    {
        var generator = factory.Services.GetRequiredService<CatalogGenerator>();
        var datasetId = await generator.AddBenchmarkDatasetAsync(4, 1, 12 * 1024 * 1024, metadataOnly: false, datasetId: $"URN:AIP:DATASET:{dataset}");
        var client = await factory.CreateClientForAsync(Owner);
        return (client, (await OrderUntilDoneAsync(client, new { datasetId }, dataset)).Id());
    }

    /// <summary>
    /// A client that sends its request and never reads a byte of the answer, on a socket of a 64 KB window (a socket
    /// left to autotune would take megabytes first).
    /// </summary>
    private async Task<Socket> NeverReadingAsync(HttpClient signedIn, string path)
    {
        var address = factory.StartKestrel();
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 64 * 1024 };
        await socket.ConnectAsync(address.Host, address.Port);
        var request = $"GET {path} HTTP/1.1\r\nHost: {address.Authority}\r\nAuthorization: {signedIn.DefaultRequestHeaders.Authorization}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request));
        return socket;
    }

    /// <summary>
    /// A slow client, not a stalled one: 16 KB every 20 ms (800 KB/s, three times the class's minimum rate; a 48 MB zip
    /// lasts a minute at that pace). Its connection acknowledges data all along, which keeps it past a write's deadline.
    /// </summary>
    private static async Task ReadSlowlyAsync(Socket socket, CancellationToken stop, StrongBox<long>? read = null)
    {
        var buffer = new byte[16 * 1024];
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        try
        {
            int received;
            while ((received = await socket.ReceiveAsync(buffer, SocketFlags.None, stop)) > 0 && await pace.WaitForNextTickAsync(stop))
            {
                if (read is not null)
                {
                    Interlocked.Add(ref read.Value, received);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task<int> DownloadsCountAsync()
    {
        await using var db = factory.CreateDbContext();
        return await db.Users.Where(u => u.NormalizedEmail == Owner.ToUpperInvariant()).Select(u => u.DownloadsCount).SingleAsync();
    }

    private async Task<HttpClient> QuotaAsync(int maxDownloads)
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{Owner}", new { maxDownloads, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
        return admin;
    }

    [Fact]
    public async Task A_second_zip_of_the_same_user_at_once_is_refused_with_429_a_code_and_retry_after()
    {
        var (client, orderId) = await DoneOrderOfBigFilesAsync("zip-limit");
        var zip = $"/api/user/orders/{orderId}/download";
        using (var holding = await NeverReadingAsync(client, zip))
        {
            // The first zip's client reads, slowly: a stalled one is dropped 1.25 s after its first blocked write (this
            // class's minimum rate), which on a loaded machine came before the second zip was asked (a 200, not a 429).
            using var stop = new CancellationTokenSource();
            var reading = ReadSlowlyAsync(holding, stop.Token);
            await WaitAsync(() => Task.FromResult(Quotas.Running(Owner) == 1), 20, "the first zip is being sent");
            using var second = await client.GetAsync(zip, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.NotNull(second.Headers.RetryAfter);
            Assert.Equal("TOO_MANY_CONCURRENT_ZIPS", (await second.Content.ReadFromJsonAsync<JsonElement>()).Code());
            Assert.Equal(1, Quotas.Running(Owner));
            await stop.CancelAsync();
            await reading;
        }
        await WaitAsync(() => Task.FromResult(Quotas.Running(Owner) == 0), 30, "the first zip ends once its client left");
        // The slot is free again: a zip read to its end is served, and marks the files DOWNLOADED.
        using var third = await client.GetAsync(zip);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        await third.Content.ReadAsByteArrayAsync();
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return await db.OrderFiles.Where(f => f.OrderId == orderId).AllAsync(f => f.State == OrderFileState.Downloaded);
        }, 20, "the zipped files DOWNLOADED");
    }

    [Fact]
    public async Task A_client_reading_slowly_but_above_the_minimum_rate_keeps_its_zip_though_single_writes_wait_longer_than_allowed()
    {
        var (client, orderId) = await DoneOrderOfBigFilesAsync("slow-zip");
        using var slow = await NeverReadingAsync(client, $"/api/user/orders/{orderId}/download");
        using var stop = new CancellationTokenSource();
        var read = new StrongBox<long>();
        var reading = ReadSlowlyAsync(slow, stop.Token, read);
        // 800 KB/s, three times the minimum rate. The kernel wakes a waiting write only once half of the connection's
        // send buffer (megabytes on loopback) has gone, so single writes wait seconds: past the 1.25 s a write is given
        // here, the watchdog dropped this client after about 1 MB. It keeps the zip while the connection shows the
        // client takes its data.
        await WaitAsync(() => Task.FromResult(Interlocked.Read(ref read.Value) >= 4 << 20 || reading.IsCompleted), 30, "4 MB read slowly");
        Assert.False(reading.IsCompleted, $"the connection ended after {Interlocked.Read(ref read.Value)} bytes: {reading.Exception?.InnerException?.Message}");
        Assert.Equal(1, Quotas.Running(Owner));
        await stop.CancelAsync();
        await reading;
        slow.Close();
        await WaitAsync(() => Task.FromResult(Quotas.Running(Owner) == 0), 30, "the zip ends once its client left");
    }

    [Fact]
    public async Task A_client_that_opens_a_zip_and_never_reads_is_dropped_and_its_slot_and_quota_reservations_are_released()
    {
        var (client, orderId) = await DoneOrderOfBigFilesAsync("stalled-zip");
        var admin = await QuotaAsync(100);
        try
        {
            using var stalled = await NeverReadingAsync(client, $"/api/user/orders/{orderId}/download");
            // The zip reserved its raw files against the quota before their bytes go.
            await WaitAsync(async () => await DownloadsCountAsync() > 0, 20, "the zip reserves its files");
            var watch = Stopwatch.StartNew();
            // Its client keeps the connection open and reads nothing: dropped within the grace period plus 64 KB at the
            // minimum rate once the buffers are full, and everything it held given back.
            await WaitAsync(async () => Quotas.Running(Owner) == 0 && await DownloadsCountAsync() == 0, 30, "the stalled zip is dropped and gives its reservations back");
            output.WriteLine($"Dropped {watch.Elapsed.TotalSeconds:0.0} s after its reservation");

            await using (var db = factory.CreateDbContext())
            {
                Assert.All(await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).ToListAsync(), f => Assert.Equal(OrderFileState.Available, f.State));
            }
            Assert.Equal("DONE", (await GetOrderAsync(client, orderId)).Status());
            // The connection is closed on the server's side: the client reads what the buffers held, then the end.
            stalled.ReceiveTimeout = 30_000;
            var buffer = new byte[1 << 20];
            try
            {
                while (stalled.Receive(buffer) > 0)
                {
                }
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
            {
                // Reset by the server: closed as well.
            }
        }
        finally
        {
            await admin.PutAsJsonAsync($"/api/orders/quotas/{Owner}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true });
        }
    }
}
