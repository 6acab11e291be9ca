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
            await using var portal = await PortalProcess.StartAsync(dataPath, new Dictionary<string, string>
            {
                ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
                ["Logging:LogLevel:Default"] = "Warning",
            });
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

            for (var i = 0; i < 12; i++)
            {
                await ZipAsync(big);
            }
            // Three alternated rounds, each figure their median: this machine's disk and CPU vary from second to second.
            var rounds = new List<(double ColdDisk, double ColdZip, double WarmDisk, double WarmZip)>();
            for (var round = 0; round < 3; round++)
            {
                PageCache.Evict(paths);
                var coldDiskRun = await ReadAsync();
                PageCache.Evict(paths);
                var coldZipRun = await ZipAsync(big);
                Assert.True(coldZipRun.Bytes > coldDiskRun.Bytes);
                rounds.Add((Rate(coldDiskRun), Rate(coldZipRun), Rate(await ReadAsync()), Rate(await ZipAsync(big))));
            }
            static double Median(IEnumerable<double> values) => values.Order().ElementAt(1);
            var (coldDisk, coldZip) = (Median(rounds.Select(r => r.ColdDisk)), Median(rounds.Select(r => r.ColdZip)));
            var (warmDisk, warmZip) = (Median(rounds.Select(r => r.WarmDisk)), Median(rounds.Select(r => r.WarmZip)));

            var smallGrowth = await PeakGrowthAsync(() => portal.WorkingSet, () => ZipAsync(small));
            var bigGrowth = await PeakGrowthAsync(() => portal.WorkingSet, () => ZipAsync(big));
            BenchmarkReport.Record("P1", "zip download over HTTP (curl)", "200 files × 5 MB",
                $"{F(coldZip)} MB/s from disk ({F(warmZip)} MB/s from page cache); server working set +{F(smallGrowth / 1048576.0)} MB (100 MB) vs +{F(bigGrowth / 1048576.0)} MB (1 GB)",
                $"disk read {F(coldDisk)} MB/s (page cache {F(warmDisk)} MB/s, ratio {F(warmZip / warmDisk, "0.00")}); medians of 3",
                coldZip / coldDisk, "≥ 0.8; growth < 64 MB");
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
        var watch = new Stopwatch();
        var growth = await PeakGrowthAsync(async () =>
        {
            watch.Start();
            using var response = await client.GetAsync($"/api/user/orders/{orderId}/metalink/download", HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            var chunk = new byte[64 * 1024];
            int n;
            while ((n = await body.ReadAsync(chunk)) > 0)
            {
                bytes += n;
            }
            watch.Stop();
        });
        Assert.True(bytes > count * 100L);
        BenchmarkReport.Record("P2", "metalink, streamed", $"{count:N0} files, {F(bytes / 1048576.0)} MB",
            $"{F(watch.Elapsed.TotalSeconds, "0.00")} s to last byte; working set +{F(growth / 1048576.0)} MB", "3 s target", watch.Elapsed.TotalSeconds / 3, "< 3 s, flat");
    }

    [Fact]
    public async Task P5_public_token_file_gets_against_the_static_file_middleware()
    {
        const int files = 200, clients = 32;
        var duration = TimeSpan.FromSeconds(5);
        using var factory = Start();
        var generator = factory.Services.GetRequiredService<CatalogGenerator>();
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var orderId = await DoneOrderAsync(client, await generator.AddBenchmarkDatasetAsync(files, 1, 64 * 1024, false, "URN:AIP:DATASET:p5"), "p5");
        var root = factory.Services.GetRequiredService<IOptions<StorageOptions>>().Value.Root;
        List<(long Id, string Location)> rows;
        await using (var db = factory.CreateDbContext())
        {
            rows = (await db.OrderFiles.Where(f => f.OrderId == orderId).Select(f => new { f.Id, f.Location }).ToListAsync()).Select(f => (f.Id, f.Location)).ToList();
        }
        var token = Uri.EscapeDataString(factory.Services.GetRequiredService<OrderTokens>().Create(orderId, DemoUsers.User, DateTime.UtcNow.AddDays(1)));
        var portal = factory.StartKestrel();
        var portalUrls = rows.Select(r => new Uri(portal, $"/api/orders/public/files/{r.Id}?orderToken={token}")).ToArray();

        // Reference: Kestrel's static-file middleware over the same files, in this process.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        await using var reference = builder.Build();
        reference.UseStaticFiles(new StaticFileOptions { FileProvider = new PhysicalFileProvider(root), ServeUnknownFileTypes = true });
        await reference.StartAsync();
        var referenceBase = new Uri(reference.Urls.First());
        var staticUrls = rows.Select(r => new Uri(referenceBase, "/" + r.Location)).ToArray();

        async Task<double> RateAsync(Uri[] urls)
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = clients });
            long done = 0, errors = 0;
            var end = DateTime.UtcNow + duration;
            var sw = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, clients).Select(async c =>
            {
                var random = new Random(c);
                while (DateTime.UtcNow < end)
                {
                    using var response = await http.GetAsync(urls[random.Next(urls.Length)]);
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode == HttpStatusCode.OK && body.Length == 64 * 1024)
                    {
                        Interlocked.Increment(ref done);
                    }
                    else
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
            }));
            Assert.Equal(0, errors);
            return done / sw.Elapsed.TotalSeconds;
        }

        // Warm-up of both paths (the JIT's tiering), then three alternated rounds, each figure their median:
        // this machine's throughput varies from second to second.
        await RateAsync(staticUrls);
        await RateAsync(portalUrls);
        var rounds = new List<(double Static, double Portal)>();
        for (var round = 0; round < 3; round++)
        {
            rounds.Add((await RateAsync(staticUrls), await RateAsync(portalUrls)));
        }
        await reference.StopAsync();
        var staticRate = rounds.Select(r => r.Static).Order().ElementAt(1);
        var portalRate = rounds.Select(r => r.Portal).Order().ElementAt(1);
        BenchmarkReport.Record("P5", "public-token file GET, 32 clients", $"{files} files × 64 KB",
            $"{F(portalRate, "0")} req/s (rounds {string.Join(", ", rounds.Select(r => F(r.Portal, "0")))})",
            $"static files {F(staticRate, "0")} req/s (rounds {string.Join(", ", rounds.Select(r => F(r.Static, "0")))}); medians of 3",
            portalRate / staticRate, "≥ 0.5");
    }
}
