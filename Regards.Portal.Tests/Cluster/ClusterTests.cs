using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;
using Regards.Portal.Storage;
using Regards.Portal.Tests.Browser;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Reliability;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Cluster;

/// <summary>
/// issue 16's cluster: three portal processes on one PostgreSQL database and one data folder, behind Debian's nginx
/// running the repository's own <c>Cluster/nginx.conf</c>. Instance 0 runs no engine and holds the user's browser page;
/// instances 1 and 2 stage. One stager is killed with SIGKILL mid-staging, then whichever instance streams the zip is
/// killed mid-zip; the page follows the order to DONE live, every nearline file is restored exactly once, nothing is
/// DOWNLOADED by the cut zip, and aria2 then fetches the whole order through nginx from all three instances.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class ClusterTests : IAsyncLifetime
{
    private const int Instances = 3;
    private readonly string dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", "cluster-" + Guid.NewGuid().ToString("N"));
    private readonly string runtime = Path.Combine(Path.GetTempPath(), "regards-tests", "nginx-" + Guid.NewGuid().ToString("N"));
    private readonly int[] ports = Enumerable.Range(0, Instances).Select(_ => Tools.FreePort()).ToArray();
    private readonly PortalProcess?[] instances = new PortalProcess?[Instances];
    private TestDatabase database = null!;
    private Process? nginx;
    private Uri nginxAddress = null!;

    private Dictionary<string, string> SettingsOf(int instance) => new(database.Settings)
    {
        ["Seed:DemoObjectsPerDataset"] = "150",
        ["Storage:NearlineLatencyPerRequest"] = "00:00:04",
        ["Orders:SubOrderMaxFiles"] = "6",
        ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
        ["Orders:MaxParallelStaging"] = "2",
        ["Orders:LeaseDuration"] = "00:00:04",
        ["Orders:PollInterval"] = "00:00:00.100",
        ["Orders:EngineEnabled"] = instance == 0 ? "false" : "true",
    };

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(dataPath);
        database = TestDatabase.Create(DatabaseProvider.PostgreSql, dataPath, "cluster");
        // The first one migrates and seeds; the others start on the ready database.
        instances[0] = await StartAsync(0);
        var others = await Task.WhenAll(Enumerable.Range(1, Instances - 1).Select(StartAsync));
        others.CopyTo(instances, 1);
        await StartNginxAsync();
    }

    private Task<PortalProcess> StartAsync(int instance) => PortalProcess.StartAsync(dataPath, SettingsOf(instance), port: ports[instance]);

    private async Task StartNginxAsync()
    {
        foreach (var folder in new[] { "", "client_body", "proxy", "fastcgi", "uwsgi", "scgi" })
        {
            Directory.CreateDirectory(Path.Combine(runtime, folder));
        }
        // nginx started by root runs its worker as nobody: the worker writes its temp folders.
        var (chmod, chmodOutput) = await Tools.RunAsync("chmod", $"-R a+rwx {runtime}");
        Assert.True(chmod == 0, chmodOutput);
        var port = Tools.FreePort();
        var servers = string.Join('\n', ports.Select(p => $"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;"));
        var config = (await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Cluster", "nginx.conf")))
            .Replace("{{RUNTIME}}", runtime).Replace("{{LISTEN}}", $"127.0.0.1:{port}").Replace("{{INSTANCES}}", servers);
        var configPath = Path.Combine(runtime, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);
        nginx = Process.Start(new ProcessStartInfo("nginx", ["-c", configPath, "-p", runtime])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("nginx did not start");
        nginxAddress = new Uri($"http://127.0.0.1:{port}");
        using var client = new HttpClient { BaseAddress = nginxAddress };
        await WaitAsync(async () =>
        {
            if (nginx.HasExited)
            {
                throw new InvalidOperationException("nginx stopped: " + await nginx.StandardError.ReadToEndAsync());
            }
            try
            {
                return (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, 20, "nginx answers");
    }

    public async Task DisposeAsync()
    {
        if (nginx is { HasExited: false })
        {
            nginx.Kill(entireProcessTree: true);
            await nginx.WaitForExitAsync();
        }
        foreach (var instance in instances)
        {
            if (instance is not null)
            {
                await instance.DisposeAsync();
            }
        }
        database.Dispose();
        foreach (var folder in new[] { dataPath, runtime })
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Three_instances_behind_nginx_share_an_order_s_work_through_kills_and_aria2_fetches_it_from_all_of_them()
    {
        using var api = new HttpClient { BaseAddress = nginxAddress, Timeout = TimeSpan.FromMinutes(3) };
        api.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(api, DemoUsers.User, "Regards!User1"));

        // The browser's page on instance 0 (no engine): an affinity cookie nginx sends there.
        var affinity = await AffinityForAsync(ports[0]);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = BrowserFixture.ChromiumPath, Headless = true, Args = BrowserFixture.ChromiumArgs });
        var context = await browser.NewContextAsync(new() { BaseURL = nginxAddress.ToString(), ViewportSize = new() { Width = 1400, Height = 900 } });
        context.SetDefaultTimeout(30_000);
        await context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = "portal_affinity", Value = affinity, Domain = "127.0.0.1", Path = "/" }]);
        var page = await context.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        await BrowserFixture.GotoInteractiveAsync(page, "/orders");

        await FillCartAsync(api, new { datasetId = Sentinel });
        var orderId = (await CreateOrderAsync(api, "cluster")).Id();
        // SIGKILL of stager 1 while it holds staging jobs: instance 2 takes them over when their leases expire.
        var stager = instances[1]!;
        try
        {
            await WaitAsync(async () =>
            {
                await using var db = database.Open();
                return await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging && s.LeaseOwner!.Contains($":{stager.ProcessId}:"));
            }, 60, "instance 1 stages part of the order");
        }
        catch (TimeoutException)
        {
            await using var db = database.Open();
            var seen = await db.SubOrders.Where(s => s.OrderId == orderId).Select(s => s.JobState + " " + s.LeaseOwner).ToListAsync();
            throw new TimeoutException($"instance 1 ({stager.ProcessId}) staged nothing of the order: {string.Join(", ", seen)}\n" + string.Join('\n', stager.Output.TakeLast(30)));
        }
        await stager.KillAsync();
        var row = page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = "cluster" });
        var status = row.Locator("[data-testid=order-status]");
        // Pushed from the instance that created it (no reload): red without the change feed's order relay.
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "RUNNING", new() { Timeout = 30_000 });
        Assert.Equal(ports[0], Assert.Single(Served("/_blazor").Select(s => s.Upstream).Distinct()));

        var progressBefore = int.Parse((await row.Locator("[data-testid=order-progress]").GetAttributeAsync("data-value"))!);
        Assert.InRange(progressBefore, 0, 99);

        // The page, on an instance that stages nothing, follows the order to DONE: pushed through the change feed.
        await Assertions.Expect(status).ToHaveAttributeAsync("data-status", "DONE", new() { Timeout = 120_000 });
        await BrowserFixture.ScreenshotAsync(page, "cluster-my-orders-done");
        instances[1] = await StartAsync(1);

        // Every nearline file of the order was restored exactly once over all instances, the kill included.
        List<OrderFile> files;
        await using (var db = database.Open())
        {
            files = await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).ToListAsync();
            Assert.False(await db.SubOrders.AnyAsync(s => s.OrderId == orderId && s.JobState == SubOrderJobState.Staging));
        }
        Assert.All(files, f => Assert.Equal(OrderFileState.Available, f.State));
        var journal = Directory.GetFiles(Path.Combine(dataPath, "cache"), LocalDiskStorage.RestoreJournalPattern).SelectMany(File.ReadAllLines)
            .Select(l => l.Split('\t')).ToList();
        // Whole lines only (two restores ending at once in one instance once left the tail of a line as a line of its own).
        Assert.All(journal, l => Assert.Equal(5, l.Length));
        var restores = journal.Where(l => l[1] == orderId.ToString()).GroupBy(l => l[2]).ToDictionary(g => g.Key, g => g.Count());
        var nearline = files.Where(f => f.Tier == Regards.Portal.Catalog.StorageTier.Nearline).ToList();
        Assert.NotEmpty(nearline);
        Assert.All(nearline, f => Assert.Equal(1, restores.GetValueOrDefault(f.Location)));

        // SIGKILL of whichever instance streams the zip, mid-zip: nothing becomes DOWNLOADED.
        using (var zipClient = SlowReader())
        {
            zipClient.DefaultRequestHeaders.Authorization = api.DefaultRequestHeaders.Authorization;
            using var zip = await zipClient.GetAsync($"/api/user/orders/{orderId}/download", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
            await using var body = await zip.Content.ReadAsStreamAsync();
            var buffer = new byte[64 << 10];
            await body.ReadAtLeastAsync(buffer, buffer.Length);
            string holder;
            await using (var db = database.Open())
            {
                holder = (await db.Set<DownloadSlotLease>().SingleAsync(s => s.Kind == ConcurrencyKind.Zip)).Instance;
            }
            var zipping = Array.FindIndex(instances, i => holder.Contains($":{i!.ProcessId}:"));
            await instances[zipping]!.KillAsync();
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                while (await body.ReadAsync(buffer) > 0)
                {
                }
                throw new InvalidOperationException("the zip ended although its server was killed (it was all buffered)");
            });
            await using (var db = database.Open())
            {
                Assert.Equal(0, await db.OrderFiles.CountAsync(f => f.OrderId == orderId && f.State == OrderFileState.Downloaded));
            }
            instances[zipping] = await StartAsync(zipping);
        }

        // aria2 fetches the whole order from its metalink through nginx, its requests spread over the three instances.
        var folder = Path.Combine(dataPath, "aria2");
        Directory.CreateDirectory(folder);
        var metalink = Path.Combine(folder, "order.metalink");
        await File.WriteAllBytesAsync(metalink, await api.GetByteArrayAsync($"/api/user/orders/{orderId}/metalink/download"));
        var fileRequestsBefore = Served("/api/orders/").Count;
        var (code, output) = await Tools.RunAsync("aria2c",
            $"-M {metalink} -d {folder}/out --retry-wait=1 --max-tries=5 --auto-file-renaming=false --console-log-level=warn --summary-interval=0 --check-integrity=true -j 6",
            timeoutSeconds: 180);
        Assert.True(code == 0, output);
        var fileRequests = Served("/api/orders/").Skip(fileRequestsBefore).ToList();
        Assert.Equal(ports.OrderBy(p => p), fileRequests.Select(r => r.Upstream).Distinct().OrderBy(p => p));
        await WaitAsync(async () =>
        {
            await using var db = database.Open();
            return await db.OrderFiles.Where(f => f.OrderId == orderId).AllAsync(f => f.State == OrderFileState.Downloaded);
        }, 20, "every file DOWNLOADED once aria2 has them");
    }

    /// <summary>A cookie value nginx's consistent hash sends to the instance on <paramref name="port"/>.</summary>
    private async Task<string> AffinityForAsync(int port)
    {
        using var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = nginxAddress };
        for (var i = 0; i < 200; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/health?affinity={i}");
            request.Headers.Add("Cookie", $"portal_affinity=a{i}");
            (await client.SendAsync(request)).EnsureSuccessStatusCode();
            if (Served("/health").Last().Upstream == port)
            {
                return $"a{i}";
            }
        }
        throw new InvalidOperationException("no affinity value reaches that instance");
    }

    /// <summary>nginx's access log: which instance (port) answered the requests whose path starts so.</summary>
    private List<(string Path, int Upstream)> Served(string pathPrefix) =>
        File.ReadAllLines(Path.Combine(runtime, "access.log"))
            .Select(l => l.Split(' '))
            .Where(l => l.Length >= 4 && l[1].StartsWith(pathPrefix, StringComparison.Ordinal) && l[^1].Contains(':'))
            .Select(l => (l[1], int.Parse(l[^1].Split(", ")[^1].Split(':')[^1])))
            .ToList();

    /// <summary>A client whose socket takes little at a time, so that a zip is still being written when its server dies.</summary>
    private HttpClient SlowReader() => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancellationToken) =>
        {
            var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 16 << 10 };
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = nginxAddress, Timeout = TimeSpan.FromMinutes(2) };
}
