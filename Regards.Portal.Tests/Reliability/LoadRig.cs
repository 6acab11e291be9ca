using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// The load of quality.md §3 against the real server as a child process on 127.0.0.1 (used by <see cref="LoadTests"/>
/// and the P8 benchmark): honest download clients (public-token file GETs, whole and ranges, bytes checked against the
/// metalink's SHA-256; metalinks; zips), and the misbehaving ones of issue 18: a client flooding a file that is not
/// ready (it ignores Retry-After) and a client that opens a zip and never reads it.
/// </summary>
public sealed class LoadRig : IAsyncDisposable
{
    private sealed record Target(string Url, long Size, string Sha256);

    private readonly string dataPath;
    private readonly PortalProcess portal;
    private readonly HttpClient owner;
    private readonly long orderId;
    private readonly List<Target> targets;
    private readonly string publicMetalink;

    private LoadRig(string dataPath, PortalProcess portal, HttpClient owner, long orderId, List<Target> targets, string publicMetalink)
    {
        this.dataPath = dataPath;
        this.portal = portal;
        this.owner = owner;
        this.orderId = orderId;
        this.targets = targets;
        this.publicMetalink = publicMetalink;
    }

    public PortalProcess Portal => portal;

    private const string StallDataset = "URN:AIP:DATASET:load-stall";

    /// <summary>An order of its own (160 MB) for the stalled client, made before the timed phase; its id.</summary>
    public async Task<long> PrepareStallAsync()
    {
        // Its 160 MB make two sub-orders, and the per-user throttle keeps the second waiting while the first waits for
        // downloads: the zip sends what is available (about 100 MB), enough to stall on.
        await FillCartAsync(owner, new { datasetId = StallDataset });
        var created = await CreateOrderAsync(owner, "stall");
        await WaitForOrderAsync(owner, created.Id(), o => o.GetProperty("availableFilesCount").GetInt32() >= 10, 300);
        return created.Id();
    }

    /// <summary>The honest clients' share of one account (they stand for as many users).</summary>
    public static async Task<LoadRig> StartAsync(string dataPath, int clients)
    {
        // The stalled client's order: 160 MB, far more than loopback sockets buffer, so that a client that never reads
        // leaves the server waiting to write.
        await PortalProcess.SeedAsync(dataPath, "--objects", "20", "--file-size", $"{8 << 20}", "--dataset-id", StallDataset);
        var portal = await PortalProcess.StartAsync(dataPath, PortalProcess.AsDeployed(new Dictionary<string, string>
        {
            ["Orders:PollInterval"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
            // The honest clients stand for that many users but share one account: the per-user limits on concurrent
            // zips and metalinks (a few by default) are those of that many users here.
            ["Downloads:MaxConcurrentZipsPerUser"] = $"{clients}",
            ["Downloads:MaxConcurrentMetalinksPerUser"] = $"{clients}",
            // The flooder's files come from the "tape" (nearline): they stay not ready for the whole run.
            ["Storage:NearlineLatencyPerRequest"] = "00:30:00",
        }));
        try
        {
            var owner = portal.CreateClient();
            owner.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(owner, DemoUsers.User, PortalAppFactory.DemoPassword(DemoUsers.User)));
            var order = await OrderUntilDoneAsync(owner, new { datasetId = Swot }, "load");
            var orderId = order.Id();

            // The targets come from the metalink: what a download client (here one that asks for Metalink 4) gets.
            XNamespace ns = "urn:ietf:params:xml:ns:metalink";
            var metalink = XDocument.Parse(await owner.GetStringAsync($"/api/user/orders/{orderId}/metalink/download?format=v4"));
            var targets = metalink.Descendants(ns + "file")
                .Select(f => (File: f, Sha256: f.Elements(ns + "hash").FirstOrDefault(h => h.Attribute("type")?.Value == "sha-256")))
                .Where(f => f.Sha256 is not null && f.File.Element(ns + "size") is not null)
                .Select(f => new Target(f.File.Element(ns + "url")!.Value, long.Parse(f.File.Element(ns + "size")!.Value), f.Sha256!.Value))
                .Where(t => t.Url.Contains("/api/orders/public/files/", StringComparison.Ordinal)).ToList();
            Assert.NotEmpty(targets);
            var token = targets[0].Url[(targets[0].Url.IndexOf("orderToken=", StringComparison.Ordinal) + "orderToken=".Length)..];
            return new LoadRig(dataPath, portal, owner, orderId, targets, $"/api/user/orders/metalink/download?orderToken={token}");
        }
        catch
        {
            await portal.DisposeAsync();
            throw;
        }
    }

    public sealed record HonestResult(int Clients, double Seconds, long Requests, long Bytes, IReadOnlyList<string> Errors, double P50, double P99, long PeakWorkingSet)
    {
        public double RequestsPerSecond => Requests / Seconds;
        public double MegabytesPerSecond => Bytes / 1048576.0 / Seconds;
    }

    /// <summary><paramref name="clients"/> honest clients until <paramref name="duration"/> has passed; the server's peak working set meanwhile.</summary>
    public async Task<HonestResult> RunHonestAsync(int clients, TimeSpan duration)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        long peak = portal.WorkingSet, requests = 0, bytes = 0;
        var errors = new ConcurrentQueue<string>();
        var latencies = new ConcurrentBag<double>();
        using var stop = new CancellationTokenSource(duration);

        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, portal.WorkingSet);
                try
                {
                    await Task.Delay(250, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });

        void Check(bool ok, string what)
        {
            if (!ok)
            {
                errors.Enqueue(what);
            }
        }

        async Task ClientAsync(int client)
        {
            var random = new Random(client);
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var watch = Stopwatch.StartNew();
                try
                {
                    if (i % 50 == 49 && client % 10 == 0)
                    {
                        // A zip of the whole order now and then (the heaviest request).
                        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/user/orders/{orderId}/download");
                        request.Headers.Authorization = owner.DefaultRequestHeaders.Authorization;
                        using var authorized = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
                        // The first complete zip marks the files DOWNLOADED: later ones have nothing left (204, per the API).
                        Check(authorized.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent, $"zip {authorized.StatusCode}");
                        var body = await authorized.Content.ReadAsByteArrayAsync(CancellationToken.None);
                        Interlocked.Add(ref bytes, body.Length);
                        Check(authorized.StatusCode == HttpStatusCode.NoContent || body.Length > targets.Sum(t => t.Size), "zip shorter than its files");
                    }
                    else if (i % 20 == 19)
                    {
                        var xml = await http.GetStringAsync(publicMetalink, CancellationToken.None);
                        Interlocked.Add(ref bytes, xml.Length);
                        Check(xml.Contains(targets[^1].Sha256, StringComparison.Ordinal), "metalink without the last file");
                    }
                    else
                    {
                        var target = targets[random.Next(targets.Count)];
                        using var request = new HttpRequestMessage(HttpMethod.Get, target.Url);
                        var ranged = i % 3 == 0 && target.Size > 100;
                        long from = 0, to = target.Size - 1;
                        if (ranged)
                        {
                            from = random.NextInt64(0, target.Size / 2);
                            to = random.NextInt64(from, target.Size);
                            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(from, to);
                        }
                        using var response = await http.SendAsync(request, CancellationToken.None);
                        var body = await response.Content.ReadAsByteArrayAsync(CancellationToken.None);
                        Interlocked.Add(ref bytes, body.Length);
                        if (ranged)
                        {
                            Check(response.StatusCode == HttpStatusCode.PartialContent && body.Length == to - from + 1, $"range {response.StatusCode} {body.Length}");
                        }
                        else
                        {
                            Check(response.StatusCode == HttpStatusCode.OK && Convert.ToHexStringLower(SHA256.HashData(body)) == target.Sha256, $"file {response.StatusCode}");
                        }
                    }
                }
                catch (Exception e)
                {
                    errors.Enqueue(e.GetType().Name + ": " + e.Message);
                }
                latencies.Add(watch.Elapsed.TotalMilliseconds);
                Interlocked.Increment(ref requests);
            }
        }

        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => ClientAsync(c))));
        total.Stop();
        await sampler;
        var sorted = latencies.Order().ToArray();
        return new HonestResult(clients, total.Elapsed.TotalSeconds, requests, bytes, [.. errors], sorted[sorted.Length / 2], sorted[(int)(sorted.Length * 0.99)], peak);
    }

    public sealed record FloodResult(long Requests, long Answered202, long Answered429, long Other, double Seconds, bool RetryAfterOnEvery429);

    /// <summary>The flooder: another user (the demo admin) with an order of nearline files, one of which it will ask for.</summary>
    public sealed record Flooder(HttpClient Client, long FileId) : IDisposable
    {
        public void Dispose() => Client.Dispose();
    }

    /// <summary>
    /// Signs the flooder in and orders nearline files (their restore takes longer than the run): made before the timed
    /// phase, so that the flooding starts at once.
    /// </summary>
    public async Task<Flooder> PrepareFlooderAsync()
    {
        var flooder = portal.CreateClient();
        flooder.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(flooder, DemoUsers.Admin, PortalAppFactory.DemoPassword(DemoUsers.Admin)));
        await FillCartAsync(flooder, new { datasetId = Sentinel });
        var order = await CreateOrderAsync(flooder, "flood");
        long fileId = 0;
        await WaitAsync(async () =>
        {
            await using var db = OpenDatabase();
            fileId = await db.OrderFiles.Where(f => f.OrderId == order.Id()).Select(f => f.Id).FirstOrDefaultAsync();
            return fileId != 0;
        }, 300, "the flooder's order has files");
        return new Flooder(flooder, fileId);
    }

    /// <summary>
    /// Asks, over <paramref name="connections"/> connections and as fast as the server answers, for the flooder's file that
    /// is not ready, ignoring Retry-After, until <paramref name="stop"/>.
    /// </summary>
    public async Task<FloodResult> FloodAsync(Flooder flooder, int connections, CancellationToken stop)
    {
        var fileId = flooder.FileId;
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections };
        using var http = new HttpClient(handler) { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        long requests = 0, accepted = 0, refused = 0, other = 0;
        var retryAfter = true;
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/orders/files/{fileId}");
                    request.Headers.Authorization = flooder.Client.DefaultRequestHeaders.Authorization;
                    using var response = await http.SendAsync(request, CancellationToken.None);
                    await response.Content.CopyToAsync(Stream.Null, CancellationToken.None);
                    switch (response.StatusCode)
                    {
                        case HttpStatusCode.Accepted:
                            Interlocked.Increment(ref accepted);
                            break;
                        case HttpStatusCode.TooManyRequests:
                            Interlocked.Increment(ref refused);
                            retryAfter &= response.Headers.RetryAfter is not null;
                            break;
                        default:
                            Interlocked.Increment(ref other);
                            break;
                    }
                }
                catch (HttpRequestException)
                {
                    Interlocked.Increment(ref other);
                }
                Interlocked.Increment(ref requests);
            }
        })));
        return new FloodResult(requests, accepted, refused, other, watch.Elapsed.TotalSeconds, retryAfter);
    }

    /// <summary>
    /// A client that opens a zip of its order (<see cref="PrepareStallAsync"/>) and never reads it until <paramref name="stop"/>; then true when the server
    /// had dropped it (its body ends short or in an error) rather than kept it open.
    /// </summary>
    public async Task<bool> StallAsync(long stallOrderId, CancellationToken stop)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1 };
        using var http = new HttpClient(handler) { BaseAddress = portal.BaseAddress, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/user/orders/{stallOrderId}/download");
        request.Headers.Authorization = owner.DefaultRequestHeaders.Authorization;
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(CancellationToken.None);
        try
        {
            await Task.Delay(Timeout.Infinite, stop);
        }
        catch (OperationCanceledException)
        {
        }
        try
        {
            // Whatever the socket had taken before the drop, then the end: a dropped zip never reaches its last byte.
            using var read = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await body.CopyToAsync(Stream.Null, read.Token);
            return false;
        }
        catch (Exception e) when (e is IOException or HttpRequestException or OperationCanceledException)
        {
            return e is not OperationCanceledException;
        }
    }

    /// <summary>The server's own database file (SQLite), read beside it.</summary>
    public SqlitePortalDbContext OpenDatabase() =>
        new(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(dataPath, "portal.db")}").Options);

    public async ValueTask DisposeAsync()
    {
        owner.Dispose();
        await portal.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}
