using System.IO.Compression;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>Crash and load tests start real servers that saturate the machine: they run alone, after the parallel tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReliabilityCollection
{
    public const string Name = "Reliability";
}

/// <summary>
/// quality.md §3 "Crash": the real app as a child process on a SQLite file, killed with SIGKILL while a zip streams
/// and while a processing runs, then started again on the same folder.
/// </summary>
[Collection(ReliabilityCollection.Name)]
public sealed class CrashTests : IAsyncLifetime
{
    private const string Dataset = "URN:AIP:DATASET:crash";
    private const int Objects = 40;
    private const int FileSize = 2_000_000;

    private readonly string dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Orders:LeaseDuration"] = "00:00:03",
        ["Orders:PollInterval"] = "00:00:00.100",
        ["Orders:MaxActiveSubOrdersPerUser"] = "1000",
        ["Orders:SubOrderMaxFiles"] = "10",
    };

    /// <summary>One execution at a time, so the kill lands inside one (each takes about half a second).</summary>
    private static readonly Dictionary<string, string> ProcessingSettings = new(Settings) { ["Orders:MaxParallelStaging"] = "1" };

    public Task InitializeAsync() =>
        PortalProcess.SeedAsync(dataPath, "--objects", $"{Objects}", "--file-size", $"{FileSize}", "--dataset-id", Dataset);

    public Task DisposeAsync()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
        return Task.CompletedTask;
    }

    private PortalDbContext OpenDatabase() =>
        new SqlitePortalDbContext(new DbContextOptionsBuilder<SqlitePortalDbContext>().UseSqlite($"Data Source={Path.Combine(dataPath, "portal.db")}").Options);

    private static async Task<HttpClient> SignInAsync(PortalProcess portal)
    {
        var client = portal.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(client, DemoUsers.User, "Regards!User1"));
        return client;
    }

    [Fact]
    public async Task A_kill_while_a_zip_streams_marks_nothing_downloaded_and_the_zip_works_after_the_restart()
    {
        long orderId;
        long bytesBeforeKill;
        await using (var first = await PortalProcess.StartAsync(dataPath, Settings))
        {
            using var client = await SignInAsync(first);
            await FillCartAsync(client, new { datasetId = Dataset });
            orderId = (await CreateOrderAsync(client, "zip-crash")).Id();
            await WaitForOrderAsync(client, orderId, o => o.Status() == "DONE", 60);

            using var response = await client.GetAsync($"/api/user/orders/{orderId}/download", HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64 * 1024];
            bytesBeforeKill = 0;
            while (bytesBeforeKill < 4_000_000)
            {
                bytesBeforeKill += await stream.ReadAsync(buffer);
            }
            await first.KillAsync();
            // The stream breaks before the end: the server died mid-archive.
            try
            {
                int read;
                while ((read = await stream.ReadAsync(buffer)) > 0)
                {
                    bytesBeforeKill += read;
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException)
            {
            }
            Assert.True(bytesBeforeKill < (long)Objects * FileSize, $"the whole archive ({bytesBeforeKill} bytes) was sent before the kill");
        }

        await using (var db = OpenDatabase())
        {
            var states = await db.OrderFiles.Where(f => f.OrderId == orderId).Select(f => f.State).ToListAsync();
            Assert.Equal(Objects, states.Count);
            Assert.All(states, s => Assert.Equal(OrderFileState.Available, s));
        }

        await using var second = await PortalProcess.StartAsync(dataPath, Settings);
        using var again = await SignInAsync(second);
        var order = await GetOrderAsync(again, orderId);
        Assert.Equal("DONE", order.Status());
        Assert.Equal(Objects, order.GetProperty("availableFilesCount").GetInt32());

        var zip = await again.GetByteArrayAsync($"/api/user/orders/{orderId}/download");
        using var archive = new ZipArchive(new MemoryStream(zip));
        Dictionary<string, string> catalog;
        await using (var db = OpenDatabase())
        {
            catalog = await db.DataFiles.Where(f => f.DataObject!.DatasetId == Dataset).ToDictionaryAsync(f => f.Name, f => f.Checksum!);
        }
        Assert.Equal(Objects, archive.Entries.Count);
        foreach (var entry in archive.Entries)
        {
            await using var content = await entry.OpenAsync();
            Assert.Equal(catalog[entry.Name], Convert.ToHexStringLower(await SHA256.HashDataAsync(content)));
        }
        await WaitForOrderAsync(again, orderId, o => o.GetProperty("availableFilesCount").GetInt32() == 0);
        await using (var db = OpenDatabase())
        {
            Assert.All(await db.OrderFiles.Where(f => f.OrderId == orderId).ToListAsync(), f => Assert.Equal(OrderFileState.Downloaded, f.State));
        }
    }

    [Fact]
    public async Task A_kill_mid_processing_reruns_the_execution_after_the_lease_expires_without_duplicates()
    {
        long orderId;
        await using (var first = await PortalProcess.StartAsync(dataPath, ProcessingSettings))
        {
            using var client = await SignInAsync(first);
            await FillCartAsync(client, new { datasetId = Dataset });
            var basket = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).GetProperty("content");
            var selection = basket.GetProperty("datasetSelections")[0].GetProperty("id").GetInt64();
            (await client.PutAsJsonAsync($"/api/order/basket/dataset/{selection}/updateProcessing",
                new { processBusinessId = "compress", parameters = new { level = "smallest" } })).EnsureSuccessStatusCode();
            orderId = (await CreateOrderAsync(client, "processing-crash")).Id();
            Assert.Equal(4, 40 / int.Parse(ProcessingSettings["Orders:SubOrderMaxFiles"]));
            // Kill once the order runs (its executions started) and before it is done.
            var running = await WaitForOrderAsync(client, orderId, o => o.Status() != "PENDING", 60);
            Assert.Equal("RUNNING", running.Status());
            await Task.Delay(300); // into the first execution
            await first.KillAsync();
        }

        await using var second = await PortalProcess.StartAsync(dataPath, ProcessingSettings);
        using var again = await SignInAsync(second);
        var done = await WaitForOrderAsync(again, orderId, o => o.Status() is "DONE" or "DONE_WITH_WARNING" or "FAILED", 120);
        Assert.Equal("DONE", done.Status());

        await using var after = OpenDatabase();
        var files = await after.OrderFiles.Where(f => f.OrderId == orderId).ToListAsync();
        // One .gz per input, each exactly once, all available: nothing lost, nothing duplicated.
        Assert.Equal(Objects, files.Count);
        Assert.All(files, f =>
        {
            Assert.EndsWith(".dat.gz", f.Name);
            Assert.Equal(OrderFileState.Available, f.State);
        });
        Assert.Equal(Objects, files.Select(f => f.Name).Distinct().Count());
        Assert.Contains(await after.SubOrders.Where(s => s.OrderId == orderId).ToListAsync(), s => s.Attempts >= 2);
        // Each output inflates to its catalog file.
        var catalog = await after.DataFiles.Where(f => f.DataObject!.DatasetId == Dataset).ToDictionaryAsync(f => f.Name, f => f.Checksum!);
        foreach (var file in files.Take(5))
        {
            await using var gzip = new GZipStream(new MemoryStream(await again.GetByteArrayAsync($"/api/orders/files/{file.Id}")), CompressionMode.Decompress);
            Assert.Equal(catalog[file.Name[..^3]], Convert.ToHexStringLower(await SHA256.HashDataAsync(gzip)));
        }
    }
}
