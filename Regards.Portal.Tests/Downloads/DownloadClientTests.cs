using System.Security.Cryptography;
using Bunit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Downloads;
using Regards.Portal.Identity;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Orders;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Downloads;

/// <summary>
/// A nearline order in several sub-orders (4 files each) under the default throttle (2), Retry-After 1 s, on Kestrel:
/// the download client drives it to the end. <paramref name="nearlineLatency"/> is a tape restore's time.
/// </summary>
public abstract class NearlineDownloadFactory : PortalAppFactory
{
    protected NearlineDownloadFactory(string nearlineLatency)
    {
        Settings["Storage:NearlineLatencyPerRequest"] = nearlineLatency;
        Settings["Orders:PollInterval"] = "00:00:00.100";
        Settings["Orders:SubOrderMaxFiles"] = "4";
        Settings["Downloads:RetryAfterSeconds"] = "1";
        StartKestrel();
    }
}

public sealed class DownloadClientFactory() : NearlineDownloadFactory("00:00:00.500");

/// <summary>Real download clients (installed by the test command): aria2 on a metalink, curl on one file with resume.</summary>
public sealed class DownloadClientTests(DownloadClientFactory factory) : IClassFixture<DownloadClientFactory>
{
    /// <summary>
    /// The link My orders renders for that document (its exact href, read from the rendered page), fetched with the
    /// user's bearer token as a script would, then handed to aria2. aria2 starts while most files are still being
    /// restored: they answer 503 (notReady=503 in the link, copied into every file URL) until restored, and the
    /// throttle restores the next sub-orders only as aria2 downloads.
    /// </summary>
    [Theory]
    [InlineData(MetalinkFormat.V3)]
    [InlineData(MetalinkFormat.V4)]
    public async Task Aria2_downloads_a_multi_sub_order_nearline_order_from_the_my_orders_metalink_retrying_the_503s(MetalinkFormat format)
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel });
        var label = $"aria2-{format}";
        var order = await CreateOrderAsync(client, label);
        await WaitForOrderAsync(client, order.Id(), o => o.Status() == "RUNNING");

        string href;
        await using (var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser))
        {
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => MyOrdersComponentTests.Row(page, label), TimeSpan.FromSeconds(10));
            var button = format == MetalinkFormat.V4 ? "order-metalink4" : "order-metalink";
            href = MyOrdersComponentTests.Row(page, label).QuerySelector($"[data-testid={button}]")!.GetAttribute("href")!;
        }
        using var response = await client.GetAsync(href);
        Assert.Equal(MetalinkWriter.ContentType(format), response.Content.Headers.ContentType!.MediaType);
        var folder = Path.Combine(factory.DataPath, "aria2-" + order.Id());
        Directory.CreateDirectory(folder);
        var metalink = Path.Combine(folder, "order" + MetalinkWriter.Extension(format));
        await File.WriteAllBytesAsync(metalink, await response.Content.ReadAsByteArrayAsync());

        List<OrderFile> files;
        await using (var db = factory.CreateDbContext())
        {
            Assert.True(await db.SubOrders.CountAsync(s => s.OrderId == order.Id()) > 2, "more sub-orders than the throttle lets stage at once");
            files = await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == order.Id()).ToListAsync();
        }
        Assert.Contains(files, f => f.State == OrderFileState.Pending);
        Assert.All(files, f => Assert.NotNull(f.Md5));
        var (code, output) = await Tools.RunAsync("aria2c",
            $"-M {metalink} -d {folder}/out --retry-wait=1 --max-tries=0 --max-file-not-found=0 --auto-file-renaming=false --console-log-level=warn --summary-interval=0 --check-integrity=true -j 4",
            timeoutSeconds: 180);
        Assert.True(code == 0, output);

        foreach (var file in files)
        {
            var path = Path.Combine(folder, "out", file.Name);
            Assert.True(File.Exists(path), $"{file.Name} missing");
            var bytes = await File.ReadAllBytesAsync(path);
            Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(file.Md5, Convert.ToHexStringLower(MD5.HashData(bytes)));
        }
        // aria2's downloads marked every file DOWNLOADED; the throttle let every sub-order through.
        var done = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "DONE", 10);
        Assert.Equal(100, done.GetProperty("percentCompleted").GetInt32());
        // The last responses are recorded as they complete on the server, a moment after aria2 exits.
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return await db.OrderFiles.Where(f => f.OrderId == order.Id()).AllAsync(f => f.State == OrderFileState.Downloaded);
        }, 10, "every file DOWNLOADED");
    }

    [Fact]
    public async Task Curl_downloads_one_file_with_the_public_link_and_resumes_a_partial_one()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
        var order = await CreateOrderAsync(client, "curl");
        // The first sub-orders are enough: the throttle holds the rest until the user downloads.
        await WaitForOrderAsync(client, order.Id(), o => o.GetProperty("waitingForUser").GetBoolean());
        OrderFile file;
        await using (var db = factory.CreateDbContext())
        {
            file = await db.OrderFiles.AsNoTracking()
                .Where(f => f.OrderId == order.Id() && f.Tier == Regards.Portal.Catalog.StorageTier.Online && f.State == OrderFileState.Available)
                .OrderByDescending(f => f.Size).FirstAsync();
        }
        var token = factory.Services.GetRequiredService<OrderTokens>().Create(order.Id(), DemoUsers.Guest, DateTime.UtcNow.AddDays(1));
        var url = new Uri(factory.StartKestrel(), $"/api/orders/public/files/{file.Id}?orderToken={Uri.EscapeDataString(token)}");
        var folder = Path.Combine(factory.DataPath, "curl-" + order.Id());
        Directory.CreateDirectory(folder);

        // -J: the name from Content-Disposition.
        var (code, output) = await Tools.RunAsync("curl", $"-sS -f -O -J \"{url}\"", folder);
        Assert.True(code == 0, output);
        var whole = await File.ReadAllBytesAsync(Path.Combine(folder, file.Name));
        Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(whole)));

        // A partial file resumed with -C -: curl asks for the rest with a Range request (206).
        var partial = Path.Combine(folder, "partial.bin");
        await File.WriteAllBytesAsync(partial, whole[..(whole.Length / 3)]);
        (code, output) = await Tools.RunAsync("curl", $"-sS -f -C - -o partial.bin -w \"%{{http_code}}\" \"{url}\"", folder);
        Assert.True(code == 0, output);
        Assert.Equal("206", output.Trim());
        Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(partial))));

        (code, output) = await Tools.RunAsync("curl", $"-s -o /dev/null -w \"%{{http_code}}\" \"{url}tampered\"", folder);
        Assert.Equal("401", output.Trim());
    }

    /// <summary>A DONE order of the user over a new dataset of <paramref name="files"/> generated files of that size.</summary>
    private async Task<(HttpClient Client, long OrderId)> DoneOrderOfBigFilesAsync(int files, int size, string dataset, string label)
    {
        var generator = factory.Services.GetRequiredService<Regards.Portal.Catalog.CatalogGenerator>();
        var datasetId = await generator.AddBenchmarkDatasetAsync(files, 1, size, metadataOnly: false, datasetId: $"URN:AIP:DATASET:{dataset}");
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        return (client, (await OrderUntilDoneAsync(client, new { datasetId }, label)).Id());
    }

    /// <summary>
    /// A client whose socket holds at most 64 KB: setting SO_RCVBUF turns Linux's receive-buffer autotuning off, which
    /// here lets a loopback socket grow to 32 MB, enough to take a whole test file before the client lets go.
    /// </summary>
    internal static HttpClient SmallWindowClient(HttpClient signedIn)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 64 * 1024 };
                try
                {
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = signedIn.BaseAddress };
        client.DefaultRequestHeaders.Authorization = signedIn.DefaultRequestHeaders.Authorization;
        return client;
    }

    /// <summary>
    /// On a real socket with a small receive window: the client reads 128 KB of a 32 MB file and drops the connection,
    /// so the server cannot have sent it all. An in-memory test server may take the whole body before the client lets
    /// go, and so may a loopback socket left to grow its buffers: both made this test depend on timing.
    /// </summary>
    [Fact]
    public async Task A_cut_download_is_recorded_as_download_error_and_a_later_complete_one_fixes_it()
    {
        var (client, orderId) = await DoneOrderOfBigFilesAsync(1, 32 * 1024 * 1024, "big-file", "cut");
        async Task<OrderFile> FileAsync()
        {
            await using var db = factory.CreateDbContext();
            return await db.OrderFiles.AsNoTracking().SingleAsync(f => f.OrderId == orderId);
        }
        var file = await FileAsync();
        using var leaving = SmallWindowClient(client);
        using (var response = await leaving.GetAsync($"/api/orders/files/{file.Id}", HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[128 * 1024], 128 * 1024);
        }
        var seen = OrderFileState.Available;
        try
        {
            await WaitAsync(async () => (seen = (await FileAsync()).State) == OrderFileState.DownloadError, 30);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The cut download was not recorded: the file stayed {seen}.");
        }
        Assert.Matches($@"^only \d+/{file.Size} bytes$", (await FileAsync()).DownloadError);
        // The file's state and the order's status are two writes: the second may follow a moment later.
        await WaitForOrderAsync(client, orderId, o => o.Status() == "DONE_WITH_WARNING", 10);

        var bytes = await client.GetByteArrayAsync($"/api/orders/files/{file.Id}");
        Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await WaitAsync(async () => (await FileAsync()).State == OrderFileState.Downloaded, 5);
    }

    /// <summary>On a real socket, for the reason given on the cut-download test: the 48 MB archive cannot all fit
    /// in the loopback buffers, so the client really leaves mid-zip.</summary>
    [Fact]
    public async Task A_client_that_leaves_mid_zip_changes_nothing()
    {
        // Four files: one sub-order here (SubOrderMaxFiles is 4), so the order is DONE without downloads.
        var (client, orderId) = await DoneOrderOfBigFilesAsync(4, 12 * 1024 * 1024, "big-zip", "zip-abort");
        using var leaving = SmallWindowClient(client);
        using (var response = await leaving.GetAsync($"/api/user/orders/{orderId}/download", HttpCompletionOption.ResponseHeadersRead))
        {
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[64 * 1024], 64 * 1024);
        }
        // The server has finished with the request once its download slot is given back.
        var quotas = factory.Services.GetRequiredService<Regards.Portal.Downloads.DownloadQuotas>();
        await WaitAsync(() => Task.FromResult(quotas.Running(DemoUsers.User) == 0), 20, "the zip request ends on the server");
        await using (var db = factory.CreateDbContext())
        {
            Assert.All(await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).ToListAsync(), f => Assert.Equal(OrderFileState.Available, f.State));
        }
        Assert.Equal("DONE", (await GetOrderAsync(client, orderId)).Status());
    }
}
