using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using Xunit.Abstractions;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Downloads;

/// <summary>Real Kestrel, a fast engine, sub-orders of two files (two staged at once per user), a recognisable Retry-After.</summary>
public sealed class DeliveryRulesFactory : PortalAppFactory
{
    public CommandCounter PublicFileCommands { get; } = CommandCounter.ForRequests("/api/orders/public/files");

    public DeliveryRulesFactory()
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Orders:SubOrderMaxFiles"] = "2";
        Settings["Downloads:RetryAfterSeconds"] = "7";
        ConfigureTestServices = services =>
        {
            services.AddHttpContextAccessor();
            services.ConfigureDbContext<SqlitePortalDbContext>(o => o.AddInterceptors(PublicFileCommands));
        };
        StartKestrel();
    }
}

/// <summary>
/// Issue 15 L4 and issue 18 §3: a file is DOWNLOADED, counts against the quota and frees its sub-order only once all
/// its bytes reached its recipient (in one response, in ranges, in aria2's segments), never after one byte or a cut;
/// a client flooding a file not ready yet gets 429s that cost no database work.
/// </summary>
public sealed class DeliveryRulesTests(DeliveryRulesFactory factory, ITestOutputHelper output) : IClassFixture<DeliveryRulesFactory>
{
    private const string Owner = DemoUsers.User;

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private DownloadQuotas Quotas => factory.Services.GetRequiredService<DownloadQuotas>();

    /// <summary>An order of the user over a new dataset of generated raw files, once it reached <paramref name="until"/>.</summary>
    private async Task<(HttpClient Client, long OrderId)> OrderOfNewFilesAsync(int files, int size, string dataset, Func<JsonElement, bool> until)
    {
        var generator = factory.Services.GetRequiredService<CatalogGenerator>();
        var datasetId = await generator.AddBenchmarkDatasetAsync(files, 1, size, metadataOnly: false, datasetId: $"URN:AIP:DATASET:{dataset}");
        var client = await factory.CreateClientForAsync(Owner);
        await FillCartAsync(client, new { datasetId });
        var order = await CreateOrderAsync(client, dataset);
        await WaitForOrderAsync(client, order.Id(), until);
        return (client, order.Id());
    }

    private async Task<List<OrderFile>> FilesAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).OrderBy(f => f.Id).ToListAsync();
    }

    private async Task<OrderFile> FileAsync(long fileId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.AsNoTracking().SingleAsync(f => f.Id == fileId);
    }

    private async Task<int> DownloadsCountAsync()
    {
        await using var db = factory.CreateDbContext();
        return await db.Users.Where(u => u.NormalizedEmail == Owner.ToUpperInvariant()).Select(u => u.DownloadsCount).SingleAsync();
    }

    /// <summary>A quota on the owner, so that what counts against it shows.</summary>
    private async Task<HttpClient> QuotaAsync(int maxDownloads)
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync($"/api/orders/quotas/{Owner}", new { maxDownloads, maxConcurrentDownloads = -1, resetCount = true })).StatusCode);
        return admin;
    }

    private async Task NoQuotaAsync(HttpClient admin) =>
        await admin.PutAsJsonAsync($"/api/orders/quotas/{Owner}", new { maxDownloads = -1, maxConcurrentDownloads = -1, resetCount = true });

    /// <summary>The server has finished with the owner's responses (their download slots are given back after the outcome is recorded).</summary>
    private Task ServerDoneAsync() => WaitAsync(() => Task.FromResult(Quotas.Running(Owner) == 0), 20, "the server ends the owner's responses");

    private static async Task<byte[]> RangeAsync(HttpClient client, string url, long? from, long? to)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Range = new RangeHeaderValue(from, to);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    [Fact]
    public async Task One_byte_ranges_make_no_file_downloaded_count_nothing_and_free_no_sub_order()
    {
        // Six files in three sub-orders of two; the throttle stages two sub-orders, which then wait for the user.
        var (client, orderId) = await OrderOfNewFilesAsync(6, 64 * 1024, "one-byte", o => o.GetProperty("waitingForUser").GetBoolean());
        var admin = await QuotaAsync(100);
        try
        {
            var available = (await FilesAsync(orderId)).Where(f => f.State == OrderFileState.Available).ToList();
            Assert.NotEmpty(available);
            foreach (var file in available)
            {
                // The last byte (bytes=-1), as in the finding, and the first one.
                Assert.Single(await RangeAsync(client, $"/api/orders/files/{file.Id}", null, 1));
                Assert.Single(await RangeAsync(client, $"/api/orders/files/{file.Id}", 0, 0));
            }
            await ServerDoneAsync();

            Assert.All(await FilesAsync(orderId), f => Assert.NotEqual(OrderFileState.Downloaded, f.State));
            Assert.Equal(0, await DownloadsCountAsync());
            await using var db = factory.CreateDbContext();
            var subs = await db.SubOrders.AsNoTracking().Where(s => s.OrderId == orderId).ToListAsync();
            var staged = available.Select(f => f.SubOrderId).ToHashSet();
            Assert.All(subs.Where(s => staged.Contains(s.Id)), s => Assert.True(s.WaitingForUser, $"sub-order {s.Sequence} no longer waits for the user"));
            Assert.Contains(await FilesAsync(orderId), f => f.State == OrderFileState.Pending);
        }
        finally
        {
            await NoQuotaAsync(admin);
        }
    }

    [Fact]
    public async Task The_whole_file_in_three_ranges_tail_first_is_downloaded_once_the_last_range_arrives_and_counted_once()
    {
        var (client, orderId) = await OrderOfNewFilesAsync(1, 300_000, "three-ranges", o => o.Status() == "DONE");
        var file = (await FilesAsync(orderId)).Single();
        var admin = await QuotaAsync(100);
        try
        {
            var url = $"/api/orders/files/{file.Id}";
            var token = factory.Services.GetRequiredService<OrderTokens>().Create(orderId, Owner, DateTime.UtcNow.AddDays(1));
            var publicUrl = $"/api/orders/public/files/{file.Id}?orderToken={Uri.EscapeDataString(token)}";
            var (a, b) = (file.Size / 3, 2 * file.Size / 3);

            // The tail first: it reaches the last byte, and is not the whole file.
            var tail = await RangeAsync(client, url, b, null);
            await ServerDoneAsync();
            Assert.Equal(OrderFileState.Available, (await FileAsync(file.Id)).State);
            Assert.Equal(0, await DownloadsCountAsync());

            // The head through the public link (the token's owner is the same recipient).
            var head = await RangeAsync(factory.CreateAnonymousClient(), publicUrl, 0, a - 1);
            await ServerDoneAsync();
            Assert.Equal(OrderFileState.Available, (await FileAsync(file.Id)).State);

            // The middle, by someone else (an administrator): the owner still lacks it.
            await RangeAsync(admin, url, a, b - 1);
            await ServerDoneAsync();
            Assert.Equal(OrderFileState.Available, (await FileAsync(file.Id)).State);
            Assert.Equal(0, await DownloadsCountAsync());

            // The middle, by the owner: every byte reached them.
            var middle = await RangeAsync(client, url, a, b - 1);
            await ServerDoneAsync();
            Assert.Equal(file.Checksum, Sha256([.. head, .. middle, .. tail]));
            Assert.Equal(OrderFileState.Downloaded, (await FileAsync(file.Id)).State);
            Assert.Equal(1, await DownloadsCountAsync());
            Assert.Empty((await factory.Services.GetRequiredService<DeliveryLedger>().ReadAsync(file.Id, Owner, default)).Ranges);

            // One more byte starts a new delivery: nothing counted.
            await RangeAsync(client, url, 0, 0);
            await ServerDoneAsync();
            Assert.Equal(1, await DownloadsCountAsync());
        }
        finally
        {
            await NoQuotaAsync(admin);
        }
    }

    /// <summary>
    /// A segmented client's connection cut while its other connections sat idle between pieces marks the file
    /// DOWNLOAD_ERROR and the order DONE_WITH_WARNING; once the rest of the file reaches the user the file is DOWNLOADED
    /// and, no file being left in error, the order DONE again (the aria2 test below met it on a busy machine).
    /// </summary>
    [Fact]
    public async Task A_file_cut_then_downloaded_after_all_leaves_the_order_done()
    {
        var (_, orderId) = await OrderOfNewFilesAsync(2, 1024, "recovered", o => o.Status() == "DONE");
        var files = await FilesAsync(orderId);
        var events = factory.Services.GetRequiredService<IOrderFileEvents>();
        var owner = await factory.CreateClientForAsync(Owner);
        await events.FileDownloadFailedAsync(orderId, files[0].Id, "only 10/1024 bytes");
        await events.FileDownloadFailedAsync(orderId, files[1].Id, "only 20/1024 bytes");
        Assert.Equal("DONE_WITH_WARNING", (await GetOrderAsync(owner, orderId)).Status());
        await events.FilesDownloadedAsync(orderId, [files[0].Id]);
        Assert.Equal("DONE_WITH_WARNING", (await GetOrderAsync(owner, orderId)).Status()); // the other file is still in error
        await events.FilesDownloadedAsync(orderId, [files[1].Id]);
        Assert.Equal("DONE", (await GetOrderAsync(owner, orderId)).Status());
    }

    /// <summary>
    /// aria2 over four connections, pieces in order (its streaming mode): its first request asks for the whole file, the
    /// next ones for the rest from some offset (<c>bytes=N-</c>), and it drops each connection once the next piece is
    /// someone else's, so that tens of responses overlap, most are cut and several reach the last byte. The file ends
    /// DOWNLOADED, counted once (the old rule counted every response that reached the last byte: 10 and 12 in two
    /// runs), and the order stays DONE: a dropped connection of a download whose other connections go on is no failure.
    /// </summary>
    [Fact]
    public async Task Aria2_in_split_segments_ends_downloaded_counted_once_with_the_order_still_done()
    {
        var (_, orderId) = await OrderOfNewFilesAsync(1, 24 * 1024 * 1024, "aria2-split", o => o.Status() == "DONE");
        var file = (await FilesAsync(orderId)).Single();
        var admin = await QuotaAsync(100);
        try
        {
            var token = factory.Services.GetRequiredService<OrderTokens>().Create(orderId, Owner, DateTime.UtcNow.AddDays(1));
            var url = new Uri(factory.StartKestrel(), $"/api/orders/public/files/{file.Id}?orderToken={Uri.EscapeDataString(token)}");
            var folder = Path.Combine(factory.DataPath, "aria2-split-" + orderId);
            Directory.CreateDirectory(folder);
            var (code, log) = await Tools.RunAsync("aria2c",
                $"-x 4 -s 4 -k 1M --min-split-size=1M --stream-piece-selector=inorder --auto-file-renaming=false --console-log-level=warn --summary-interval=0 -d \"{folder}\" -o got.bin \"{url}\"");
            Assert.True(code == 0, log);
            Assert.Equal(file.Checksum, Sha256(await File.ReadAllBytesAsync(Path.Combine(folder, "got.bin"))));

            await WaitAsync(async () => (await FileAsync(file.Id)).State == OrderFileState.Downloaded, 20, "the file DOWNLOADED");
            await ServerDoneAsync();
            Assert.Equal(1, await DownloadsCountAsync());
            var order = await GetOrderAsync(await factory.CreateClientForAsync(Owner), orderId);
            Assert.Equal("DONE", order.Status());
        }
        finally
        {
            await NoQuotaAsync(admin);
        }
    }

    /// <summary>
    /// A client with a small window reads 128 KB of a 32 MB file and leaves: DOWNLOAD_ERROR "only x/y bytes", x at
    /// least what it received. Its last byte then is not the rest of the file; the rest from what it received is.
    /// </summary>
    [Fact]
    public async Task A_client_cut_mid_file_is_not_downloaded_and_the_rest_from_what_it_received_completes_the_file()
    {
        var (client, orderId) = await OrderOfNewFilesAsync(1, 32 * 1024 * 1024, "cut-then-rest", o => o.Status() == "DONE");
        var file = (await FilesAsync(orderId)).Single();
        var url = $"/api/orders/files/{file.Id}";
        using (var leaving = DownloadClientTests.SmallWindowClient(client))
        using (var response = await leaving.GetAsync(url, HttpCompletionOption.ResponseHeadersRead))
        {
            await using var stream = await response.Content.ReadAsStreamAsync();
            await stream.ReadAtLeastAsync(new byte[128 * 1024], 128 * 1024);
        }
        await ServerDoneAsync();
        var cut = await FileAsync(file.Id);
        Assert.Equal(OrderFileState.DownloadError, cut.State);
        var match = System.Text.RegularExpressions.Regex.Match(cut.DownloadError!, $@"^only (\d+)/{file.Size} bytes$");
        Assert.True(match.Success, cut.DownloadError);
        var reached = long.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(reached, 128 * 1024, file.Size - 1);

        // The last byte: a response that ends at the file's end, not the rest of the file.
        await RangeAsync(client, url, null, 1);
        await ServerDoneAsync();
        Assert.NotEqual(OrderFileState.Downloaded, (await FileAsync(file.Id)).State);

        // The rest from what the client received (as curl -C - asks for it; the server's x is at least that): complete.
        const long received = 128 * 1024;
        var rest = await RangeAsync(client, url, received, null);
        Assert.Equal(file.Size - received, rest.Length);
        await ServerDoneAsync();
        Assert.Equal(OrderFileState.Downloaded, (await FileAsync(file.Id)).State);
    }

    /// <summary>
    /// A client asking ~3000 times a second for a file still being staged: past its share of "not ready" answers
    /// (NotReadyRequestLimit, 5 per RetryAfterSeconds) it gets 429 + Retry-After and a ProblemDetails code, answered
    /// without a database command (the old code answered each of them 503, after a lookup).
    /// </summary>
    [Fact]
    public async Task Flooding_a_file_not_ready_gets_429_with_retry_after_and_costs_no_database_work()
    {
        var (client, orderId) = await OrderOfNewFilesAsync(2, 4096, "flood", o => o.Status() == "DONE");
        var file = (await FilesAsync(orderId)).First();
        await using (var db = factory.CreateDbContext())
        {
            await db.OrderFiles.Where(f => f.Id == file.Id).ExecuteUpdateAsync(s => s.SetProperty(f => f.State, OrderFileState.Pending));
        }
        // The order's change is seen by the public lookups at once in this instance.
        factory.Services.GetRequiredService<FileLookupCache>().Evict(orderId);
        var token = factory.Services.GetRequiredService<OrderTokens>().Create(orderId, Owner, DateTime.UtcNow.AddDays(1));
        var url = $"/api/orders/public/files/{file.Id}?orderToken={Uri.EscapeDataString(token)}&notReady=503";

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 16 };
        using var flood = new HttpClient(handler) { BaseAddress = factory.StartKestrel() };
        var answers = new ConcurrentDictionary<HttpStatusCode, int>();
        var retryAfters = new ConcurrentBag<TimeSpan?>();
        var before = factory.PublicFileCommands.Count;
        const int requests = 3000;
        var next = 0;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= requests)
            {
                using var response = await flood.GetAsync(url);
                answers.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                if (response.StatusCode == HttpStatusCode.TooManyRequests && retryAfters.Count < 20)
                {
                    retryAfters.Add(response.Headers.RetryAfter?.Delta);
                    var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
                    Assert.Equal("FILE_NOT_READY_ASKED_TOO_OFTEN", problem.Code());
                }
            }
        }));
        watch.Stop();
        var commands = factory.PublicFileCommands.Count - before;
        output.WriteLine($"{requests} requests in {watch.Elapsed.TotalSeconds:0.00} s ({requests / watch.Elapsed.TotalSeconds:0} req/s): " +
            string.Join(", ", answers.Select(a => $"{(int)a.Key} × {a.Value}")) + $"; {commands} database commands");

        Assert.Equal(requests, answers.Values.Sum());
        // 5 per window of 7 s (a slow machine may take more than one window).
        Assert.InRange(answers.GetValueOrDefault(HttpStatusCode.ServiceUnavailable), 1, 5 * (1 + (int)(watch.Elapsed.TotalSeconds / 7)));
        Assert.Equal(requests - answers.GetValueOrDefault(HttpStatusCode.ServiceUnavailable), answers.GetValueOrDefault(HttpStatusCode.TooManyRequests));
        Assert.All(retryAfters, r => Assert.InRange(r!.Value.TotalSeconds, 1, 7));
        // No query per request: at most one lookup per parallel client in each window (those that ask before the
        // first answers are counted), none for the 429s.
        Assert.InRange(commands, 0, 16 * (1 + (int)(watch.Elapsed.TotalSeconds / 7)));

        // The signed-in path too: 429 before any lookup.
        var session = Enumerable.Range(0, 20).Select(_ => client.GetAsync($"/api/orders/files/{file.Id}"));
        var codes = (await Task.WhenAll(session)).Select(r => r.StatusCode).ToList();
        Assert.True(codes.Count(c => c == HttpStatusCode.Accepted) <= 5, string.Join(", ", codes));
        Assert.Contains(HttpStatusCode.TooManyRequests, codes);
    }
}
