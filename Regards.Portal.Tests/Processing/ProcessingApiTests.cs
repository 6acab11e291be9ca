using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Orders;
using Regards.Portal.Processing;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Orders;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Processing;

/// <summary>The real app plus test plug-ins: a processing that waits for the test (pause mid-processing), one that
/// always fails, and a manifest-like one with a tiny unsplittable limit (409).</summary>
public sealed class ProcessingApiFactory : OrdersApiFactory
{
    public GateProcessing Gate { get; } = new();

    public ProcessingApiFactory()
    {
        ConfigureTestServices = services =>
        {
            services.AddSingleton<IProcessing>(Gate);
            services.AddSingleton<IProcessing, BrokenProcessing>();
            services.AddSingleton<IProcessing, TinyProcessing>();
        };
    }
}

/// <summary>Copies its inputs once the test opens the gate; counts its starts.</summary>
public sealed class GateProcessing : TestProcessingBase
{
    private TaskCompletionSource open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public int Starts;
    public override string BusinessId => "gate";

    public void Open() => open.TrySetResult();

    public override async Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref Starts);
        await open.Task.WaitAsync(cancellationToken);
        foreach (var input in execution.Inputs)
        {
            await using var source = input.OpenRead();
            await using var output = execution.CreateOutput(input.Name + ".copy", "application/octet-stream", input);
            await source.CopyToAsync(output, cancellationToken);
        }
    }
}

public sealed class BrokenProcessing : TestProcessingBase
{
    public override string BusinessId => "broken";

    public override async Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken)
    {
        await using (var output = execution.CreateOutput("partial.out", "text/plain", null))
        {
            await output.WriteAsync("half"u8.ToArray(), cancellationToken);
        }
        throw new InvalidOperationException("calibration table missing");
    }
}

public sealed class TinyProcessing : TestProcessingBase
{
    public override string BusinessId => "tiny";
    public override ProcessingSizeLimit SizeLimit => new(ProcessingSizeLimitType.Files, 2);
    public override bool ForbidSplitInSuborders => true;
    public override Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken) => Task.CompletedTask;
}

public abstract class TestProcessingBase : IProcessing
{
    public abstract string BusinessId { get; }
    public string Label(string lang) => BusinessId;
    public string Description(string lang) => BusinessId;
    public IReadOnlyList<ProcessingParameter> Parameters => [];
    public IReadOnlyList<DataType> RequiredDataTypes => [DataType.RawData];
    public virtual ProcessingSizeLimit SizeLimit => ProcessingSizeLimit.None;
    public ProcessingCardinality Cardinality => ProcessingCardinality.OnePerInputFile;
    public virtual bool ForbidSplitInSuborders => false;
    public abstract Task ExecuteAsync(ProcessingExecution execution, CancellationToken cancellationToken);
}

/// <summary>Processing through the real HTTP pipeline and engine: catalogue, cart choice, execution, downloads.</summary>
public sealed class ProcessingApiTests(ProcessingApiFactory factory) : IClassFixture<ProcessingApiFactory>
{
    private static async Task<long> CartWithAsync(HttpClient client, object selection)
    {
        await FillCartAsync(client, selection);
        var basket = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content();
        return basket.GetProperty("datasetSelections")[0].GetProperty("id").GetInt64();
    }

    private static Task<HttpResponseMessage> ChooseAsync(HttpClient client, long selectionId, string? id, object? parameters = null) =>
        id is null
            ? client.PutAsync($"/api/order/basket/dataset/{selectionId}/updateProcessing", null)
            : client.PutAsJsonAsync($"/api/order/basket/dataset/{selectionId}/updateProcessing", new { processBusinessId = id, parameters = parameters ?? new { } });

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).Code());
    }

    private async Task<List<Regards.Portal.Orders.OrderFile>> FilesAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.AsNoTracking().Where(f => f.OrderId == orderId).OrderBy(f => f.Name).ToListAsync();
    }

    private async Task<Dictionary<string, string>> CatalogChecksumsAsync(string datasetId)
    {
        await using var db = factory.CreateDbContext();
        return await db.DataFiles.Where(f => f.DataObject!.DatasetId == datasetId)
            .ToDictionaryAsync(f => f.Name, f => f.Checksum!);
    }

    [Fact]
    public async Task The_catalogue_lists_the_processings_with_their_parameters_and_limits()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await factory.CreateAnonymousClient().GetAsync("/api/processing")).StatusCode);
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var list = await client.GetFromJsonAsync<JsonElement>("/api/processing");
        var ids = list.EnumerateArray().Select(p => p.GetProperty("processBusinessId").GetString()).ToList();
        Assert.Contains("compress", ids);
        Assert.Contains("checksum-manifest", ids);
        Assert.Contains("subset", ids);
        var subset = list.EnumerateArray().Single(p => p.GetProperty("processBusinessId").GetString() == "subset");
        Assert.Equal(["unit", "from", "to"], subset.GetProperty("parameters").EnumerateArray().Select(p => p.GetProperty("name").GetString()));
        Assert.Equal("INTEGER", subset.GetProperty("parameters")[1].GetProperty("type").GetString());
        Assert.Equal("BYTES", subset.GetProperty("sizeLimit").GetProperty("type").GetString());
        Assert.Equal("ONE_PER_INPUT_FILE", subset.GetProperty("cardinality").GetString());
        var manifest = list.EnumerateArray().Single(p => p.GetProperty("processBusinessId").GetString() == "checksum-manifest");
        Assert.True(manifest.GetProperty("forbidSplitInSuborders").GetBoolean());
        Assert.Equal(["RAWDATA"], manifest.GetProperty("requiredDataTypes").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Cart_choices_are_checked_with_their_codes_and_refusals_change_nothing()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_00" });

        await AssertProblemAsync(await ChooseAsync(client, selection, "no-such"), HttpStatusCode.NotFound, "UNKNOWN_PROCESSING");
        await AssertProblemAsync(await ChooseAsync(client, selection, "compress", new { level = "ultra" }), HttpStatusCode.BadRequest, "BAD_PROCESSING_PARAMETER");
        await AssertProblemAsync(await ChooseAsync(client, selection, "subset", new { from = "x" }), HttpStatusCode.BadRequest, "BAD_PROCESSING_PARAMETER");
        await AssertProblemAsync(await ChooseAsync(client, selection, "tiny"), HttpStatusCode.Conflict, "PROCESSING_LIMIT_EXCEEDED");
        await AssertProblemAsync(await ChooseAsync(client, 987654, "compress"), HttpStatusCode.NotFound, "NOT_FOUND");
        var untouched = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content();
        Assert.Equal(JsonValueKind.Null, untouched.GetProperty("datasetSelections")[0].GetProperty("processDatasetDescription").ValueKind);

        // Chosen: stored with every parameter resolved; then filters are refused, and the other way round.
        var chosen = await ChooseAsync(client, selection, "compress", new { level = "fastest" });
        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        var ds = (await chosen.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0];
        Assert.Equal("compress", ds.GetProperty("processDatasetDescription").GetProperty("processBusinessId").GetString());
        Assert.Equal("fastest", ds.GetProperty("processDatasetDescription").GetProperty("parameters").GetProperty("level").GetString());
        var filters = await client.PutAsJsonAsync($"/api/order/basket/dataset/{selection}/updateFileFilters", new { fileTypes = new[] { "RAWDATA" } });
        await AssertProblemAsync(filters, HttpStatusCode.BadRequest, "PROCESSING_SET");

        var removed = await ChooseAsync(client, selection, null);
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsJsonAsync($"/api/order/basket/dataset/{selection}/updateFileFilters", new { fileTypes = new[] { "RAWDATA" } })).StatusCode);
        await AssertProblemAsync(await ChooseAsync(client, selection, "subset"), HttpStatusCode.BadRequest, "FILE_FILTERS_SET");
    }

    /// <summary>A JSON body of unknown length, as clients over a real socket send it (chunked).</summary>
    private sealed class ChunkedJson(string json) : HttpContent
    {
        public ChunkedJson() : this("") { }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(Encoding.UTF8.GetBytes(json)).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    [Fact]
    public async Task A_chunked_body_without_content_length_is_read_and_an_empty_one_removes_the_choice()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_006" });
        var body = new ChunkedJson("{\"processBusinessId\":\"compress\",\"parameters\":{\"level\":\"fastest\"}}");
        body.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        var chosen = await client.PutAsync($"/api/order/basket/dataset/{selection}/updateProcessing", body);
        Assert.Equal(HttpStatusCode.OK, chosen.StatusCode);
        var description = (await chosen.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0].GetProperty("processDatasetDescription");
        Assert.Equal("compress", description.GetProperty("processBusinessId").GetString());
        Assert.Equal("fastest", description.GetProperty("parameters").GetProperty("level").GetString());

        var removed = await client.PutAsync($"/api/order/basket/dataset/{selection}/updateProcessing", new ChunkedJson());
        Assert.Equal(JsonValueKind.Null, (await removed.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0].GetProperty("processDatasetDescription").ValueKind);

        var tooBig = new ChunkedJson("{\"processBusinessId\":\"" + new string('x', 100_000) + "\"}");
        tooBig.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        await AssertProblemAsync(await client.PutAsync($"/api/order/basket/dataset/{selection}/updateProcessing", tooBig), HttpStatusCode.RequestEntityTooLarge, "BODY_TOO_LARGE");
    }

    [Fact]
    public async Task A_compressed_nearline_order_serves_gzip_outputs_that_inflate_to_the_catalog_files()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var selection = await CartWithAsync(client, new { datasetId = Sentinel, q = "_0001" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "compress", new { level = "smallest" })).StatusCode);
        var order = await CreateOrderAsync(client, "compressed");
        var done = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "DONE");
        Assert.Equal(JsonValueKind.Null, done.GetProperty("message").ValueKind);

        var files = await FilesAsync(order.Id());
        Assert.NotEmpty(files);
        Assert.All(files, f =>
        {
            Assert.EndsWith(".gz", f.Name);
            Assert.Equal(OrderFileState.Available, f.State);
        });
        Assert.Equal(files.Count, done.GetProperty("filesCount").GetInt32());
        Assert.Equal(files.Sum(f => f.Size), done.GetProperty("totalSize").GetInt64());
        var processing = done.GetProperty("datasetTasks")[0].GetProperty("processDatasetDescription");
        Assert.Equal("compress", processing.GetProperty("processBusinessId").GetString());
        Assert.Equal("smallest", processing.GetProperty("parameters").GetProperty("level").GetString());

        // The metalink lists the outputs with their MD5 and SHA-256 (the xsd's spellings in Metalink 3).
        var metalink = await client.GetStringAsync($"/api/user/orders/{order.Id()}/metalink/download");
        Assert.All(files, f => Assert.Contains($"<hash type=\"md5\">{f.Md5}</hash>", metalink));
        Assert.All(files, f => Assert.Contains($"<hash type=\"sha256\">{f.Checksum}</hash>", metalink));

        // The zip holds them, with those hashes; each inflates to the catalog file it came from.
        var catalog = await CatalogChecksumsAsync(Sentinel);
        var zip = await client.GetByteArrayAsync($"/api/user/orders/{order.Id()}/download");
        using var archive = new ZipArchive(new MemoryStream(zip));
        var entries = archive.Entries.Where(e => e.Name != "NOTICE.txt").ToList();
        Assert.Equal(files.Count, entries.Count);
        foreach (var entry in entries)
        {
            using var bytes = new MemoryStream();
            await using (var stored = await entry.OpenAsync())
            {
                await stored.CopyToAsync(bytes);
            }
            var file = files.Single(f => f.Name == entry.Name);
            Assert.Equal(file.Md5, Convert.ToHexStringLower(MD5.HashData(bytes.ToArray())));
            Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray())));
            bytes.Position = 0;
            await using var gzip = new GZipStream(bytes, CompressionMode.Decompress);
            Assert.Equal(catalog[entry.Name[..^3]], Convert.ToHexStringLower(await SHA256.HashDataAsync(gzip)));
        }
        await WaitForOrderAsync(client, order.Id(), o => o.GetProperty("availableFilesCount").GetInt32() == 0);
    }

    [Fact]
    public async Task A_checksum_manifest_order_gives_one_manifest_matching_the_catalog()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_01" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "checksum-manifest")).StatusCode);
        var order = await CreateOrderAsync(client, "manifest");
        await WaitForOrderAsync(client, order.Id(), o => o.Status() == "DONE");
        var file = Assert.Single(await FilesAsync(order.Id()));
        Assert.Equal("manifest.sha256", file.Name);

        var manifest = await client.GetStringAsync($"/api/orders/files/{file.Id}");
        var catalog = await CatalogChecksumsAsync(Swot);
        var lines = manifest.TrimEnd('\n').Split('\n');
        Assert.True(lines.Length >= 1);
        foreach (var line in lines)
        {
            var (hash, name) = (line[..64], line[66..]);
            Assert.Equal(catalog[name], hash);
        }
        Assert.Equal(lines.Select(l => l[66..]).Order(StringComparer.Ordinal), lines.Select(l => l[66..]));
    }

    [Fact]
    public async Task A_failed_execution_gives_processing_errors_refuses_retry_and_allows_restart()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_02" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "broken")).StatusCode);
        var order = await CreateOrderAsync(client, "broken");
        var failed = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "FAILED");
        var files = await FilesAsync(order.Id());
        Assert.NotEmpty(files);
        Assert.All(files, f =>
        {
            Assert.Equal(OrderFileState.ProcessingError, f.State);
            Assert.Equal("Processing 'broken' failed: calibration table missing", f.DownloadError);
        });
        Assert.Equal(files.Count, failed.GetProperty("filesInErrorCount").GetInt32());
        var links = (await GetOrderModelAsync(client, order.Id())).Links();
        Assert.DoesNotContain("retry", links);
        Assert.Contains("restart", links);
        // The partial output was deleted from the order's cache.
        var outputs = Path.Combine(factory.DataPath, "cache", order.Id().ToString(), "outputs");
        Assert.True(!Directory.Exists(outputs) || Directory.EnumerateFiles(outputs, "*", SearchOption.AllDirectories).ToList() is []);

        await AssertProblemAsync(await client.PutAsync($"/api/user/orders/{order.Id()}/retry", null), HttpStatusCode.Conflict, "ORDER_HAS_PROCESSING");
        var restart = await client.PostAsJsonAsync($"/api/user/orders/{order.Id()}/restart", new { label = "broken again" });
        Assert.Equal(HttpStatusCode.Created, restart.StatusCode);
        var again = await restart.Content.ReadFromJsonAsync<JsonElement>();
        await WaitForOrderAsync(client, again.Id(), o => o.Status() == "FAILED");
        Assert.Equal("broken", (await GetOrderAsync(client, again.Id())).GetProperty("datasetTasks")[0].GetProperty("processDatasetDescription").GetProperty("processBusinessId").GetString());
    }

    [Fact]
    public async Task Pausing_mid_processing_drops_the_run_and_resume_runs_it_again_to_the_end()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Admin);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_003" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "gate")).StatusCode);
        var order = await CreateOrderAsync(client, "gated");
        await WaitAsync(() => Task.FromResult(Volatile.Read(ref factory.Gate.Starts) == 1), what: "the processing did not start");

        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"/api/user/orders/pause/{order.Id()}", null)).StatusCode);
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return await db.SubOrders.Where(s => s.OrderId == order.Id()).AllAsync(s => s.JobState == SubOrderJobState.Suspended);
        }, what: "the sub-order was not suspended");
        var paused = await GetOrderAsync(client, order.Id());
        Assert.Equal("PAUSED", paused.Status());
        Assert.All(await FilesAsync(order.Id()), f => Assert.Equal(OrderFileState.Pending, f.State));

        factory.Gate.Open();
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"/api/user/orders/resume/{order.Id()}", null)).StatusCode);
        await WaitForOrderAsync(client, order.Id(), o => o.Status() == "DONE");
        Assert.Equal(2, Volatile.Read(ref factory.Gate.Starts));
        var catalog = await CatalogChecksumsAsync(Swot);
        var files = await FilesAsync(order.Id());
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            Assert.EndsWith(".copy", file.Name);
            Assert.Equal(catalog[file.Name[..^5]], file.Checksum);
            var bytes = await client.GetByteArrayAsync($"/api/orders/files/{file.Id}");
            Assert.Equal(file.Checksum, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }
    }

    [Fact]
    public async Task An_unexpected_completion_error_fails_the_order_without_showing_its_internal_text()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_010" });
        // A row the portal would never write (the cart checks patterns): the completion's own code fails on it.
        await using (var db = factory.CreateDbContext())
        {
            var row = await db.BasketDatasetSelections.SingleAsync(s => s.Id == selection);
            row.FileFilter = new Regards.Portal.Basket.FileFilter { FileNamePattern = "([" };
            await db.SaveChangesAsync();
        }
        var order = await CreateOrderAsync(client, "internal failure");
        var failed = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "FAILED");
        var message = failed.GetProperty("message").GetString()!;
        Assert.Contains("internal error", message);
        Assert.DoesNotContain("([", message);
        Assert.DoesNotContain("pattern", message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_processing_disabled_after_it_was_chosen_fails_the_order_with_a_message()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_007" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "checksum-manifest")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/admin/processing/checksum-manifest", new { enabled = false })).StatusCode);
        try
        {
            var order = await CreateOrderAsync(client, "disabled-meanwhile");
            var failed = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "FAILED");
            Assert.Contains("the processing 'checksum-manifest' is no longer available", failed.GetProperty("message").GetString());
            Assert.Empty(await FilesAsync(order.Id()));
        }
        finally
        {
            await admin.PutAsJsonAsync("/api/admin/processing/checksum-manifest", new { enabled = true });
        }
    }

    [Fact]
    public async Task A_processing_restricted_to_admins_after_it_was_chosen_fails_the_order_and_its_restart()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var client = await factory.CreateClientForAsync(DemoUsers.Guest);
        var selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_008" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "checksum-manifest")).StatusCode);
        var done = await CreateOrderAsync(client, "allowed then restricted");
        await WaitForOrderAsync(client, done.Id(), o => o.Status() == "DONE");

        selection = await CartWithAsync(client, new { datasetId = Swot, q = "SSH_001_009" });
        Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(client, selection, "checksum-manifest")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/admin/processing/checksum-manifest", new { enabled = true, minimumRole = "ADMIN" })).StatusCode);
        try
        {
            // Chosen while allowed, completed after the admin raised the role: the owner's rights now decide.
            var order = await CreateOrderAsync(client, "restricted meanwhile");
            var failed = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "FAILED");
            Assert.Contains("the processing 'checksum-manifest' is no longer available to you", failed.GetProperty("message").GetString());
            Assert.Empty(await FilesAsync(order.Id()));

            var restart = await client.PostAsJsonAsync($"/api/user/orders/{done.Id()}/restart", new { label = "restarted after the restriction" });
            Assert.Equal(HttpStatusCode.Created, restart.StatusCode);
            var again = await restart.Content.ReadFromJsonAsync<JsonElement>();
            var refused = await WaitForOrderAsync(client, again.Id(), o => o.Status() == "FAILED");
            Assert.Contains("no longer available to you", refused.GetProperty("message").GetString());
            Assert.Empty(await FilesAsync(again.Id()));
        }
        finally
        {
            await admin.PutAsJsonAsync("/api/admin/processing/checksum-manifest", new { enabled = true, minimumRole = "REGISTERED_USER" });
        }
    }

    [Fact]
    public async Task Admins_disable_or_restrict_a_processing_and_see_which_dataset_uses_it()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.Forbidden, (await guest.PutAsJsonAsync("/api/admin/processing/subset", new { enabled = false })).StatusCode);
        await AssertProblemAsync(await admin.PutAsJsonAsync("/api/admin/processing/subset", new { enabled = true, minimumRole = "GOD" }), HttpStatusCode.BadRequest, "BAD_ROLE");
        await AssertProblemAsync(await admin.PutAsJsonAsync("/api/admin/processing/nope", new { enabled = true }), HttpStatusCode.NotFound, "NOT_FOUND");

        var guestSelection = await CartWithAsync(guest, new { datasetId = Swot, q = "SSH_001_004" });
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync("/api/admin/processing/subset", new { enabled = true, minimumRole = "ADMIN" })).StatusCode);
        try
        {
            var forGuest = await guest.GetFromJsonAsync<JsonElement>("/api/processing");
            Assert.DoesNotContain("subset", forGuest.EnumerateArray().Select(p => p.GetProperty("processBusinessId").GetString()));
            await AssertProblemAsync(await ChooseAsync(guest, guestSelection, "subset"), HttpStatusCode.NotFound, "UNKNOWN_PROCESSING");
            var forAdmin = await admin.GetFromJsonAsync<JsonElement>("/api/processing");
            Assert.Contains("subset", forAdmin.EnumerateArray().Select(p => p.GetProperty("processBusinessId").GetString()));

            // Usage: an order with subset shows the dataset and the parameters.
            var selection = await CartWithAsync(admin, new { datasetId = Swot, q = "SSH_001_005" });
            Assert.Equal(HttpStatusCode.OK, (await ChooseAsync(admin, selection, "subset", new { unit = "bytes", from = "0", to = "16" })).StatusCode);
            var order = await CreateOrderAsync(admin, "subset-usage");
            await WaitForOrderAsync(admin, order.Id(), o => o.Status() == "DONE");
            Assert.All(await FilesAsync(order.Id()), f => Assert.Equal(16, f.Size));
            var usage = await admin.GetFromJsonAsync<JsonElement>("/api/admin/processing/usage");
            var row = usage.EnumerateArray().Single(u => u.GetProperty("processBusinessId").GetString() == "subset" && u.GetProperty("parameters").GetProperty("to").GetString() == "16");
            Assert.Equal(Swot, row.GetProperty("datasetId").GetString());
            Assert.Equal(HttpStatusCode.Forbidden, (await guest.GetAsync("/api/admin/processing/usage")).StatusCode);
        }
        finally
        {
            await admin.PutAsJsonAsync("/api/admin/processing/subset", new { enabled = true, minimumRole = "REGISTERED_USER" });
        }
    }
}
