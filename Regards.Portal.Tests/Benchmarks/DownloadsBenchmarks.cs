using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Regards.Portal.Catalog;
using Regards.Portal.Data;
using Regards.Portal.Downloads;
using Regards.Portal.Orders;
using Regards.Portal.Storage;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Benchmarks;

/// <summary>P1, P2 and P5 of quality.md §2, each against a reference measured in the same run.</summary>
[Trait("Category", BenchmarkReport.Category)]
[Collection(BenchmarkReport.Category)]
public sealed class DownloadsBenchmarks
{
    private static string F(double value, string format = "0.0") => value.ToString(format, CultureInfo.InvariantCulture);

    private static PortalAppFactory Start()
    {
        var factory = new PortalAppFactory();
        factory.Settings["Orders:MaxActiveSubOrdersPerUser"] = "1000";
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
        factory.Settings["Logging:LogLevel:Default"] = "Warning";
        factory.StartKestrel();
        return factory;
    }

    /// <summary>Samples this process's working set while <paramref name="work"/> runs; returns the peak growth in bytes.</summary>
    private static async Task<long> PeakGrowthAsync(Func<Task> work)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        using var process = Process.GetCurrentProcess();
        return await PeakGrowthAsync(() =>
        {
            process.Refresh();
            return process.WorkingSet64;
        }, work);
    }

    /// <summary>Samples a working set every 20 ms while <paramref name="work"/> runs; returns the peak growth in bytes.</summary>
    private static async Task<long> PeakGrowthAsync(Func<long> workingSet, Func<Task> work)
    {
        var baseline = workingSet();
        var peak = baseline;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, workingSet());
                try { await Task.Delay(20, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        await work();
        await stop.CancelAsync();
        await sampler;
        return peak - baseline;
    }

    private static async Task<long> DoneOrderAsync(HttpClient client, string datasetId, string label) =>
        (await OrderUntilDoneAsync(client, new { datasetId }, label, 600)).Id();

    /// <summary>
    /// The portal runs as its own Release process (server GC, as deployed) and curl downloads, as a user's client
    /// would: an in-process HttpClient would share the server's threads and GC. The zip path is warmed up first
    /// (the JIT's tiering takes a few archives to settle), then measured from the disk (page cache dropped) and
    /// from the page cache, against plain reads of the same files in the same run.
    /// </summary>
    [Fact]
    public async Task P1_zip_of_200_files_of_5_MB_against_reading_them_from_disk()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await PortalProcess.SeedAsync(dataPath, "--objects", "20", "--file-size", $"{5 << 20}", "--dataset-id", "URN:AIP:DATASET:p1-100mb");
            await PortalProcess.SeedAsync(dataPath, "--objects", "200", "--file-size", $"{5 << 20}", "--dataset-id", "URN:AIP:DATASET:p1-1gb");
            await using var portal = await PortalProcess.StartAsync(dataPath, PortalProcess.AsDeployed(new Dictionary<string, string>
            {
                ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
                ["Logging:LogLevel:Default"] = "Warning",
            }));
            using var client = portal.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(client, DemoUsers.User, PortalAppFactory.DemoPassword(DemoUsers.User)));
            var small = await DoneOrderAsync(client, "URN:AIP:DATASET:p1-100mb", "p1-100mb");
            var big = await DoneOrderAsync(client, "URN:AIP:DATASET:p1-1gb", "p1-1gb");

            var database = new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(dataPath, "portal.db")}").Options;
            List<string> paths;
            await using (var db = new SqlitePortalDbContext(database))
            {
                paths = (await db.OrderFiles.Where(f => f.OrderId == big).Select(f => f.Location).ToListAsync())
                    .Select(l => Path.Combine(dataPath, "storage", l)).ToList();
            }
            Assert.All(paths, p => Assert.True(File.Exists(p), p));

            async Task<(long Bytes, double Seconds)> ReadAsync()
            {
                var buffer = new byte[256 * 1024];
                var watch = Stopwatch.StartNew();
                long total = 0;
                foreach (var path in paths)
                {
                    await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
                    int read;
                    while ((read = await stream.ReadAsync(buffer)) > 0)
                    {
                        total += read;
                    }
                }
                return (total, watch.Elapsed.TotalSeconds);
            }

            var bearer = client.DefaultRequestHeaders.Authorization!.Parameter;
            async Task<(long Bytes, double Seconds)> ZipAsync(long orderId)
            {
                // A zip marks its files DOWNLOADED: the benchmark makes them AVAILABLE again so one order can be zipped many times.
                await using (var db = new SqlitePortalDbContext(database))
                {
                    await db.OrderFiles.Where(f => f.OrderId == orderId).ExecuteUpdateAsync(u => u.SetProperty(f => f.State, OrderFileState.Available));
                }
                var (code, output) = await Tools.RunAsync("curl",
                    $"-sS -f -o /dev/null -H \"Authorization: Bearer {bearer}\" -w \"%{{http_code}} %{{size_download}} %{{time_total}}\" {portal.BaseAddress}api/user/orders/{orderId}/download");
                Assert.True(code == 0, output);
                var parts = output.Trim().Split(' ');
                Assert.Equal("200", parts[0]);
                return (long.Parse(parts[1], CultureInfo.InvariantCulture), double.Parse(parts[2], CultureInfo.InvariantCulture));
            }

            static double Rate((long Bytes, double Seconds) run) => run.Bytes / run.Seconds / (1 << 20);

            // nginx sending the same 200 files over one keep-alive connection (curl, one transfer after the other).
            await using var nginx = await Nginx.StartAsync(Path.Combine(dataPath, "storage"));
            var curlConfig = Path.Combine(dataPath, "nginx-urls.curl");
            await File.WriteAllLinesAsync(curlConfig, paths.SelectMany(p => new[]
            {
                $"url = \"{new Uri(nginx.BaseAddress, Path.GetRelativePath(Path.Combine(dataPath, "storage"), p).Replace('\\', '/'))}\"",
                "output = \"/dev/null\"",
            }));
            async Task<(long Bytes, double Seconds)> NginxAsync()
            {
                var (code, output) = await Tools.RunAsync("curl", $"-sS -f -K \"{curlConfig}\" -w \"%{{num_connects}} %{{size_download}} %{{time_total}}\\n\"");
                Assert.True(code == 0, output);
                var transfers = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim().Split(' ')).ToList();
                Assert.Equal(paths.Count, transfers.Count);
                Assert.Equal(1, transfers.Sum(t => int.Parse(t[0], CultureInfo.InvariantCulture))); // one connection for all
                return (transfers.Sum(t => long.Parse(t[1], CultureInfo.InvariantCulture)), transfers.Sum(t => double.Parse(t[2], CultureInfo.InvariantCulture)));
            }

            for (var i = 0; i < 12; i++)
            {
                await ZipAsync(big);
            }
            await NginxAsync();
            // Three alternated rounds, each figure their median: this machine's disk and CPU vary from second to second.
            var rounds = new List<(double ColdDisk, double ColdZip, double WarmDisk, double WarmZip, double ColdNginx, double WarmNginx)>();
            for (var round = 0; round < 3; round++)
            {
                PageCache.Evict(paths);
                var coldDiskRun = await ReadAsync();
                PageCache.Evict(paths);
                var coldZipRun = await ZipAsync(big);
                Assert.True(coldZipRun.Bytes > coldDiskRun.Bytes);
                PageCache.Evict(paths);
                var coldNginxRun = await NginxAsync();
                Assert.Equal(coldDiskRun.Bytes, coldNginxRun.Bytes);
                rounds.Add((Rate(coldDiskRun), Rate(coldZipRun), Rate(await ReadAsync()), Rate(await ZipAsync(big)), Rate(coldNginxRun), Rate(await NginxAsync())));
            }
            static double Median(IEnumerable<double> values) => values.Order().ElementAt(1);
            var (coldDisk, coldZip) = (Median(rounds.Select(r => r.ColdDisk)), Median(rounds.Select(r => r.ColdZip)));
            var (warmDisk, warmZip) = (Median(rounds.Select(r => r.WarmDisk)), Median(rounds.Select(r => r.WarmZip)));
            var (coldNginx, warmNginx) = (Median(rounds.Select(r => r.ColdNginx)), Median(rounds.Select(r => r.WarmNginx)));

            var smallGrowth = await PeakGrowthAsync(() => portal.WorkingSet, () => ZipAsync(small));
            var bigGrowth = await PeakGrowthAsync(() => portal.WorkingSet, () => ZipAsync(big));
            // The nginx ratio is the page-cache one: both servers send the same cached files (the "disk" runs drop the
            // page cache first, but on this machine posix_fadvise no longer takes these files out of it).
            BenchmarkReport.Record("P1", "zip download over HTTP, one connection (curl)", "200 files × 5 MB",
                $"{F(warmZip)} MB/s from page cache ({F(coldZip)} MB/s after dropping it); server working set +{F(smallGrowth / 1048576.0)} MB (100 MB) vs +{F(bigGrowth / 1048576.0)} MB (1 GB)",
                $"plain read {F(coldDisk)} MB/s after dropping the cache (cached {F(warmDisk)} MB/s); ratio is cold zip ÷ cold read",
                coldZip / coldDisk, "≥ 0.9 × nginx; growth < 64 MB",
                $"the 200 files {F(warmNginx)} MB/s (after dropping the cache {F(coldNginx)} MB/s); medians of 3", warmZip / warmNginx);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    [Fact]
    public async Task P2_metalink_of_a_100000_file_order()
    {
        const int count = 100_000;
        using var factory = Start();
        var now = DateTime.UtcNow;
        long orderId;
        await using (var db = factory.CreateDbContext())
        {
            var order = new Order { Owner = DemoUsers.User, Label = "p2", CreationDate = now, Status = OrderStatus.Done, StatusDate = now, CompletionDate = now, ExpirationDate = now.AddDays(7), FilesCount = count, PercentCompleted = 100 };
            var task = new DatasetTask { DatasetId = CatalogGenerator.SwotId, DatasetLabel = "p2", FilesCount = count };
            order.DatasetTasks.Add(task);
            db.Orders.Add(order);
            await db.SaveChangesAsync();
            var sub = new SubOrder { OrderId = order.Id, Owner = order.Owner, DatasetTaskId = task.Id, Sequence = 1, JobState = SubOrderJobState.Staged, QueuedAt = now };
            db.SubOrders.Add(sub);
            await db.SaveChangesAsync();
            orderId = order.Id;
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            for (var i = 0; i < count; i++)
            {
                db.OrderFiles.Add(new OrderFile
                {
                    PublicId = Guid.NewGuid(), OrderId = order.Id, SubOrderId = sub.Id, DatasetTaskId = task.Id, DataObjectId = $"obj{i}", ProviderId = $"P2_{i:000000}",
                    // Both hashes, as order files have them: the default (Metalink 3) document lists md5 and sha256.
                    Name = $"P2_{i:000000}.nc", Size = 1_000_000 + i, Checksum = Convert.ToHexStringLower(BitConverter.GetBytes((long)i)).PadLeft(64, '0'),
                    Md5 = Convert.ToHexStringLower(BitConverter.GetBytes((long)i)).PadLeft(32, '0'),
                    Tier = StorageTier.Online, Location = $"p2/{i}.nc", DataType = DataType.RawData, State = OrderFileState.Available,
                });
                if (i % 20_000 == 19_999)
                {
                    await db.SaveChangesAsync();
                    db.ChangeTracker.Clear();
                }
            }
            await db.SaveChangesAsync();
        }
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        long bytes = 0;
        async Task<double> MetalinkAsync()
        {
            var watch = Stopwatch.StartNew();
            using var response = await client.GetAsync($"/api/user/orders/{orderId}/metalink/download", HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var chunk = new byte[64 * 1024];
            long read = 0;
            int n;
            while ((n = await body.ReadAsync(chunk)) > 0)
            {
                read += n;
            }
            bytes = read;
            return watch.Elapsed.TotalSeconds;
        }
        // Warmed up once, as P1 and P5 are: the first metalink after the start pays the JIT and EF's query compilation
        // (about 1 s of CPU on its own). Then three, their median.
        await MetalinkAsync();
        var times = new List<double>();
        var growth = await PeakGrowthAsync(async () =>
        {
            for (var run = 0; run < 3; run++)
            {
                times.Add(await MetalinkAsync());
            }
        });
        var median = times.Order().ElementAt(1);
        Assert.True(bytes > count * 100L);
        BenchmarkReport.Record("P2", "metalink, streamed", $"{count:N0} files, {F(bytes / 1048576.0)} MB",
            $"{F(median, "0.00")} s to last byte (runs {string.Join(", ", times.Select(t => F(t, "0.00")))}); working set +{F(growth / 1048576.0)} MB", "1 s target", median, "< 1 s, flat");
    }

    /// <summary>
    /// The portal as its own Release process, wrk (a process of its own) as the load generator with 32 keep-alive
    /// connections, each request a random file of the order by its public-token URL (token check, file lookup and access
    /// rules included). References in the same run, over the same files: Debian's nginx (sendfile) and Kestrel's
    /// static-file middleware (in the test process). Each path warmed up, then three alternated 5 s rounds; medians.
    /// </summary>
    [Fact]
    public async Task P5_public_token_file_gets_against_nginx_and_the_static_file_middleware()
    {
        const int files = 200, connections = 32, seconds = 5;
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        try
        {
            await PortalProcess.SeedAsync(dataPath, "--objects", $"{files}", "--file-size", $"{64 * 1024}", "--dataset-id", "URN:AIP:DATASET:p5");
            await using var portal = await PortalProcess.StartAsync(dataPath, PortalProcess.AsDeployed(new Dictionary<string, string>
            {
                ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
                ["Logging:LogLevel:Default"] = "Warning",
            }));
            using var client = portal.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(client, DemoUsers.User, PortalAppFactory.DemoPassword(DemoUsers.User)));
            var orderId = await DoneOrderAsync(client, "URN:AIP:DATASET:p5", "p5");
            // The public-token URLs as a download client gets them: from the order's metalink.
            System.Xml.Linq.XNamespace ns = "urn:ietf:params:xml:ns:metalink";
            var metalink = System.Xml.Linq.XDocument.Parse(await client.GetStringAsync($"/api/user/orders/{orderId}/metalink/download?format=v4"));
            var portalPaths = metalink.Descendants(ns + "url").Select(u => new Uri(u.Value).PathAndQuery)
                .Where(u => u.StartsWith("/api/orders/public/files/", StringComparison.Ordinal)).ToList();
            Assert.Equal(files, portalPaths.Count);

            var storage = Path.Combine(dataPath, "storage");
            List<string> locations;
            var database = new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(dataPath, "portal.db")}").Options;
            await using (var db = new SqlitePortalDbContext(database))
            {
                locations = await db.OrderFiles.Where(f => f.OrderId == orderId).Select(f => f.Location).ToListAsync();
            }
            Assert.Equal(files, locations.Count);
            var staticPaths = locations.Select(l => "/" + l.Replace('\\', '/')).ToList();

            await using var nginx = await Nginx.StartAsync(storage);
            // Kestrel's static-file middleware over the same files, in this process.
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            builder.Logging.ClearProviders();
            await using var reference = builder.Build();
            reference.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(storage), ServeUnknownFileTypes = true });
            await reference.StartAsync();
            var kestrel = new Uri(reference.Urls.First());

            using (var check = new HttpClient())
            {
                foreach (var (url, what) in new[] { (new Uri(nginx.BaseAddress, staticPaths[0]), "nginx"), (new Uri(kestrel, staticPaths[0]), "static files"), (new Uri(portal.BaseAddress, portalPaths[0]), "portal") })
                {
                    var body = await check.GetByteArrayAsync(url);
                    Assert.True(body.Length == 64 * 1024, $"{what}: {body.Length} bytes");
                }
            }

            async Task<double> RateAsync(Uri server, List<string> paths, int duration)
            {
                var (rate, errors, output) = await Wrk.RunAsync(server, paths, connections, duration);
                Assert.True(errors == 0, output);
                return rate;
            }

            // Warm-up: the portal's code goes through the JIT's tiers (and its lookups into their cache) for a while.
            await RateAsync(nginx.BaseAddress, staticPaths, 3);
            await RateAsync(kestrel, staticPaths, 5);
            for (var i = 0; i < 3; i++)
            {
                await RateAsync(portal.BaseAddress, portalPaths, 5);
            }
            var rounds = new List<(double Nginx, double Static, double Portal)>();
            for (var round = 0; round < 3; round++)
            {
                rounds.Add((await RateAsync(nginx.BaseAddress, staticPaths, seconds), await RateAsync(kestrel, staticPaths, seconds), await RateAsync(portal.BaseAddress, portalPaths, seconds)));
            }
            await reference.StopAsync();
            static double Median(IEnumerable<double> values) => values.Order().ElementAt(1);
            var (nginxRate, staticRate, portalRate) = (Median(rounds.Select(r => r.Nginx)), Median(rounds.Select(r => r.Static)), Median(rounds.Select(r => r.Portal)));
            string Rounds(Func<(double Nginx, double Static, double Portal), double> pick) => string.Join(", ", rounds.Select(r => F(pick(r), "0")));
            BenchmarkReport.Record("P5", $"public-token file GET, wrk {connections} connections", $"{files} files × 64 KB",
                $"{F(portalRate, "0")} req/s (rounds {Rounds(r => r.Portal)})",
                $"Kestrel static files {F(staticRate, "0")} req/s (rounds {Rounds(r => r.Static)})",
                portalRate / staticRate, "≥ 0.5 × nginx",
                $"{F(nginxRate, "0")} req/s (rounds {Rounds(r => r.Nginx)})", portalRate / nginxRate);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            try
            {
                Directory.Delete(dataPath, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
