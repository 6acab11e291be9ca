using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Xml.Linq;
using Xunit.Abstractions;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// quality.md §3 "Load": 100 concurrent download clients for 60 s (REGARDS_LOAD_SECONDS to change it) against the
/// real server as a child process on 127.0.0.1: public-token file GETs (whole and ranges, bytes checked against
/// the metalink's SHA-256), metalinks and zips. Zero errors, server memory bounded; the figures are printed.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Clients = 100;
    private readonly string dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    private sealed record Target(string Url, long Size, string Sha256);

    [Fact]
    public async Task A_hundred_download_clients_for_a_minute_get_every_byte_right_with_bounded_server_memory()
    {
        var seconds = int.TryParse(Environment.GetEnvironmentVariable("REGARDS_LOAD_SECONDS"), out var s) ? s : 60;
        await using var portal = await PortalProcess.StartAsync(dataPath, new Dictionary<string, string>
        {
            ["Orders:PollInterval"] = "00:00:00.100",
            ["Logging:LogLevel:Default"] = "Warning",
            // The hundred clients stand for a hundred users but share one account: the per-user limits on concurrent
            // zips and metalinks (a few by default) are those of a hundred users here.
            ["Downloads:MaxConcurrentZipsPerUser"] = $"{Clients}",
            ["Downloads:MaxConcurrentMetalinksPerUser"] = $"{Clients}",
        });
        using var owner = portal.CreateClient();
        owner.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(owner, DemoUsers.User, "Regards!User1"));
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
        var publicMetalink = $"/api/user/orders/metalink/download?orderToken={token}";

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = Clients, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var baseline = portal.WorkingSet;
        long peak = baseline, requests = 0, bytes = 0;
        var errors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));

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
                        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/user/orders/{orderId}/download");
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

        void Check(bool ok, string what)
        {
            if (!ok)
            {
                errors.Enqueue(what);
            }
        }

        var total = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(c => Task.Run(() => ClientAsync(c))));
        total.Stop();
        await sampler;

        var sorted = latencies.Order().ToArray();
        output.WriteLine($"Load: {Clients} clients × {total.Elapsed.TotalSeconds:0} s: {requests} requests ({requests / total.Elapsed.TotalSeconds:0} req/s), " +
                         $"{bytes / 1048576.0 / total.Elapsed.TotalSeconds:0.0} MB/s, latency p50 {sorted[sorted.Length / 2]:0.0} ms p99 {sorted[(int)(sorted.Length * 0.99)]:0.0} ms, " +
                         $"errors {errors.Count}, server memory {baseline / 1048576.0:0} MB → peak {peak / 1048576.0:0} MB");
        Assert.True(errors.IsEmpty, string.Join("\n", errors.Take(10)));
        Assert.True(requests > Clients, "every client made requests");
        // Bounded: no growth with the number of requests (streams, pooled buffers): well under 256 MB above the idle server.
        Assert.True(peak - baseline < 256L * 1024 * 1024, $"server memory grew by {(peak - baseline) / 1048576.0:0} MB");
    }
}
