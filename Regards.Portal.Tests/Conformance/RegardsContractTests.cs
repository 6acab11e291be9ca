using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Regards.Portal.Catalog;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Conformance;

/// <summary>Real Kestrel (curl talks to it) and every log line kept, to check that no token reaches a log.</summary>
public sealed class RegardsContractFactory : PortalAppFactory
{
    public ConcurrentQueue<string> Logs { get; } = new();

    public RegardsContractFactory()
    {
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Orders:MaxActiveSubOrdersPerUser"] = "1000";
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:30";
        // Everything, including the host's request lines, is logged: a token must still not appear.
        Settings["Logging:LogLevel:Default"] = "Trace";
        Settings["Logging:LogLevel:Microsoft.AspNetCore"] = "Trace";
        ConfigureTestServices = services => services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(Logs));
        StartKestrel();
    }

    private sealed class CapturingLoggerProvider(ConcurrentQueue<string> logs) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new CapturingLogger(categoryName, logs);
        public void Dispose() { }
    }

    private sealed class CapturingLogger(string category, ConcurrentQueue<string> logs) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs.Enqueue($"{category}: {formatter(state, exception)} {exception}");
    }
}

/// <summary>
/// The REGARDS contract: requests written as REGARDS' own <c>*ControllerIT</c> tests and regards-frontend send them, through
/// REGARDS' gateway prefix, answers checked field by field against REGARDS' DTOs (names, JSON types, envelopes, codes).
/// The portal's deliberate differences are named assertions (<c>Deliberate_*</c>).
/// </summary>
public sealed class RegardsContractTests(RegardsContractFactory factory) : IClassFixture<RegardsContractFactory>
{
    private const string Gateway = "/api/v1/rs-order";

    private string Root => factory.StartKestrel().GetLeftPart(UriPartial.Authority);

    private async Task<HttpClient> UserAsync(string email = DemoUsers.User)
    {
        var client = await factory.CreateClientForAsync(email);
        await client.DeleteAsync($"{Gateway}/order/basket");
        return client;
    }

    private async Task<string> FirstObjectIdAsync(string datasetId, string q)
    {
        await using var db = factory.CreateDbContext();
        return await db.DataObjects.Where(o => o.DatasetId == datasetId && o.ProviderId.Contains(q) && o.Files.Any()).OrderBy(o => o.Id).Select(o => o.Id).FirstAsync();
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    /// <summary>REGARDS' ServerErrorResponse member and the portal's ProblemDetails code, both present.</summary>
    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code, string? regardsMessage = null)
    {
        var problem = await JsonAsync(response, status);
        Assert.Equal(code, problem.Code());
        Assert.Equal(regardsMessage ?? code, problem.GetProperty("messages")[0].GetString());
    }

    private static void AssertKinds(JsonElement element, params (string Name, JsonValueKind Kind)[] fields)
    {
        foreach (var (name, kind) in fields)
        {
            Assert.True(element.TryGetProperty(name, out var value), $"'{name}' missing in {element}");
            Assert.True(kind == value.ValueKind, $"'{name}' is {value.ValueKind}, REGARDS writes {kind}");
        }
    }

    private static void AssertEnvelope(JsonElement model)
    {
        Assert.Equal(JsonValueKind.Object, model.GetProperty("content").ValueKind);
        Assert.Equal(JsonValueKind.Array, model.GetProperty("links").ValueKind);
        foreach (var link in model.GetProperty("links").EnumerateArray())
        {
            // REGARDS' LinkAdapter writes rel and href only, and REGARDS' readers refuse any other member.
            Assert.Equal(["rel", "href"], link.EnumerateObject().Select(p => p.Name));
            Assert.True(Uri.IsWellFormedUriString(link.GetProperty("href").GetString(), UriKind.Absolute), link.ToString());
        }
    }

    private async Task<JsonElement> DoneOrderAsync(HttpClient client, string label)
    {
        var response = await client.PostAsJsonAsync($"{Gateway}/order/basket/selection",
            new { engineType = "legacy", datasetUrn = CatalogGenerator.SwotId, searchParameters = new { q = new[] { "SSH_001_01" } } });
        await JsonAsync(response, HttpStatusCode.OK);
        var created = await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label, onSuccessUrl = "http://perdu.com" }), HttpStatusCode.Created);
        return await WaitForOrderAsync(client, created.Id(), o => o.Status() == "DONE");
    }

    // ---- basket (BasketControllerIT, regards-frontend OrderBasketActions) --------------------------------------

    [Fact]
    public async Task A_REGARDS_selection_of_one_object_puts_that_object_only_in_the_basket_in_REGARDS_shape()
    {
        var client = await UserAsync();
        var objectId = await FirstObjectIdAsync(CatalogGenerator.SwotId, "SSH_001_01");
        // As regards-frontend sends it: explicit nulls for what it does not use.
        var body = new { engineType = "legacy", datasetUrn = (string?)null, entityIdsToInclude = new[] { objectId }, entityIdsToExclude = (string[]?)null, searchParameters = new { q = (string[]?)null } };
        var model = await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", body), HttpStatusCode.OK);

        AssertEnvelope(model);
        Assert.Empty(model.GetProperty("links").EnumerateArray()); // REGARDS' basket answers carry no link
        var basket = model.Content();
        AssertKinds(basket, ("id", JsonValueKind.Number), ("owner", JsonValueKind.String), ("datasetSelections", JsonValueKind.Array), ("quota", JsonValueKind.Number));
        var selection = Assert.Single(basket.GetProperty("datasetSelections").EnumerateArray());
        AssertKinds(selection, ("id", JsonValueKind.Number), ("datasetIpid", JsonValueKind.String), ("datasetLabel", JsonValueKind.String),
            ("objectsCount", JsonValueKind.Number), ("filesCount", JsonValueKind.Number), ("filesSize", JsonValueKind.Number), ("quota", JsonValueKind.Number),
            ("itemsSelections", JsonValueKind.Array));
        Assert.Equal(CatalogGenerator.SwotId, selection.GetProperty("datasetIpid").GetString());
        Assert.Equal(1, selection.GetProperty("objectsCount").GetInt32());
        Assert.Equal(1, basket.GetProperty("objectsCount").GetInt32()); // not the whole catalog

        await using (var db = factory.CreateDbContext())
        {
            var rawData = await db.DataFiles.CountAsync(f => f.DataObjectId == objectId && f.DataType == DataType.RawData && f.Tier != StorageTier.External);
            Assert.Equal(rawData, selection.GetProperty("quota").GetInt64());
            Assert.Equal(rawData, basket.GetProperty("quota").GetInt64());
        }
        var item = Assert.Single(selection.GetProperty("itemsSelections").EnumerateArray());
        AssertKinds(item, ("date", JsonValueKind.String), ("objectsCount", JsonValueKind.Number), ("filesCount", JsonValueKind.Number),
            ("filesSize", JsonValueKind.Number), ("quota", JsonValueKind.Number), ("selectionRequest", JsonValueKind.Object));
        var request = item.GetProperty("selectionRequest");
        Assert.Equal("legacy", request.GetProperty("engineType").GetString());
        Assert.Equal([objectId], request.GetProperty("entityIdsToInclude").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(item.GetProperty("date").GetDateTime(), request.GetProperty("selectionDate").GetDateTime());

        // The date REGARDS' client puts back in the path removes that dated selection.
        var removed = await client.DeleteAsync($"{Gateway}/order/basket/dataset/{selection.GetProperty("id").GetInt64()}/{Uri.EscapeDataString(item.GetProperty("date").GetString()!)}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Empty((await JsonAsync(removed, HttpStatusCode.OK)).Content().GetProperty("datasetSelections").EnumerateArray());
    }

    [Fact]
    public async Task A_REGARDS_search_selection_with_a_dataset_adds_that_search_and_its_items_echo_it()
    {
        var client = await UserAsync();
        var regards = await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection",
            new { engineType = "legacy", datasetUrn = Uri.EscapeDataString(CatalogGenerator.SwotId), searchParameters = new { q = new[] { "SSH_001_01" } } }), HttpStatusCode.OK);
        var viaRegards = regards.Content().GetProperty("datasetSelections")[0];
        await client.DeleteAsync($"{Gateway}/order/basket");
        var portal = await JsonAsync(await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = CatalogGenerator.SwotId, q = "SSH_001_01" }), HttpStatusCode.OK);
        var viaPortal = portal.Content().GetProperty("datasetSelections")[0];
        Assert.True(viaRegards.GetProperty("objectsCount").GetInt32() > 1);
        Assert.Equal(viaPortal.GetProperty("objectsCount").GetInt32(), viaRegards.GetProperty("objectsCount").GetInt32());
        Assert.Equal(viaPortal.GetProperty("filesSize").GetInt64(), viaRegards.GetProperty("filesSize").GetInt64());
        var echoed = viaPortal.GetProperty("itemsSelections")[0].GetProperty("selectionRequest");
        Assert.Equal(CatalogGenerator.SwotId, echoed.GetProperty("datasetUrn").GetString());
        Assert.Equal(["SSH_001_01"], echoed.GetProperty("searchParameters").GetProperty("q").EnumerateArray().Select(v => v.GetString()));
    }

    public static TheoryData<string, string, int, string> BadSelections => new()
    {
        { "{}", "EMPTY_SELECTION", 400, "" },
        { """{"engineType":"legacy"}""", "EMPTY_SELECTION", 400, "" },
        { """{"engineType":"legacy","searchParameters":{"q":[""]}}""", "EMPTY_SELECTION", 400, "" },
        { """{"entityIdsToInclude":["URN:AIP:DATA:swot:00001"]}""", "ENGINE_TYPE_REQUIRED", 400, "Engine type may not be empty" },
        { """{"engineType":"opensearch","datasetUrn":"URN:AIP:DATASET:swot-l2"}""", "UNKNOWN_ENGINE_TYPE", 400, "" },
        { """{"engineType":"legacy","datasetUrn":"URN:AIP:DATASET:swot-l2","searchParams":{"q":["x"]}}""", "UNKNOWN_FIELD", 400, "" },
        { """{"datasetId":"URN:AIP:DATASET:swot-l2","includeIDs":["x"]}""", "UNKNOWN_FIELD", 400, "" },
        { """{"engineType":"legacy","datasetUrn":"URN:AIP:DATASET:swot-l2","q":"x"}""", "MIXED_SELECTION", 400, "" },
        { """{"engineType":"legacy","entityIdsToInclude":"URN:AIP:DATA:swot:00001"}""", "BAD_SELECTION", 400, "" },
        { """{"engineType":"legacy","datasetUrn":42}""", "BAD_SELECTION", 400, "" },
        { """{"engineType":"legacy","searchParameters":{"lat":["43.6"],"lon":["1.4"],"r":["1000"]}}""", "UNSUPPORTED_SEARCH_PARAMETER", 400, "" },
        { """{"engineType":"legacy","searchParameters":{"q":"SSH"}}""", "BAD_SELECTION", 400, "" },
        { """{"engineType":"legacy","datasetUrn":"URN:AIP:DATASET:nope"}""", "NOT_FOUND", 404, "" },
        { """{"engineType":"legacy","datasetUrn":"URN:AIP:DATASET:spot5-archive"}""", "FORBIDDEN", 403, "" },
        { "[1,2]", "BAD_SELECTION", 400, "" },
    };

    [Theory]
    [MemberData(nameof(BadSelections))]
    public async Task Bad_selections_are_refused_with_code_and_messages_and_write_nothing(string body, string code, int status, string regardsMessage)
    {
        var client = await UserAsync(DemoUsers.Guest);
        var response = await client.PostAsync($"{Gateway}/order/basket/selection", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await AssertErrorAsync(response, (HttpStatusCode)status, code, regardsMessage.Length > 0 ? regardsMessage : null);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"{Gateway}/order/basket")).StatusCode);
    }

    [Fact]
    public async Task File_filters_and_processing_are_REGARDS_objects_and_an_empty_processing_body_removes_it()
    {
        var client = await UserAsync();
        await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", new { engineType = "legacy", datasetUrn = CatalogGenerator.SwotId, searchParameters = new { q = new[] { "SSH_001_01" } } }), HttpStatusCode.OK);
        var id = (await JsonAsync(await client.GetAsync($"{Gateway}/order/basket"), HttpStatusCode.OK)).Content().GetProperty("datasetSelections")[0].GetProperty("id").GetInt64();

        var filtered = await JsonAsync(await client.PutAsJsonAsync($"{Gateway}/order/basket/dataset/{id}/updateFileFilters", new { fileTypes = Array.Empty<string>(), fileNamePattern = "SSH" }), HttpStatusCode.OK);
        Assert.Equal("SSH", filtered.Content().GetProperty("datasetSelections")[0].GetProperty("fileSelectionDescription").GetProperty("fileNamePattern").GetString());
        // REGARDS' DataTypeLight: QUICKLOOK stands for every quicklook size, and is written back as such.
        var light = await JsonAsync(await client.PutAsJsonAsync($"{Gateway}/order/basket/dataset/{id}/updateFileFilters", new { fileTypes = new[] { "RAWDATA", "QUICKLOOK" } }), HttpStatusCode.OK);
        Assert.Equal(["RAWDATA", "QUICKLOOK"], light.Content().GetProperty("datasetSelections")[0].GetProperty("fileSelectionDescription").GetProperty("fileTypes").EnumerateArray().Select(t => t.GetString()));
        await using (var db = factory.CreateDbContext())
        {
            var stored = await db.BasketDatasetSelections.AsNoTracking().SingleAsync(s => s.Id == id);
            Assert.Equal([DataType.RawData, DataType.QuicklookSd, DataType.QuicklookMd, DataType.QuicklookHd], stored.FileFilter!.FileTypes);
        }
        await JsonAsync(await client.PutAsync($"{Gateway}/order/basket/dataset/{id}/updateFileFilters", null), HttpStatusCode.OK);

        var chosen = await JsonAsync(await client.PutAsJsonAsync($"{Gateway}/order/basket/dataset/{id}/updateProcessing", new { processBusinessId = "compress", parameters = new { level = "fastest" } }), HttpStatusCode.OK);
        var description = chosen.Content().GetProperty("datasetSelections")[0].GetProperty("processDatasetDescription");
        Assert.Equal("compress", description.GetProperty("processBusinessId").GetString());
        Assert.Equal("fastest", description.GetProperty("parameters").GetProperty("level").GetString());
        // regards-frontend removes a processing with "{}".
        var removed = await JsonAsync(await client.PutAsync($"{Gateway}/order/basket/dataset/{id}/updateProcessing", new StringContent("{}", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.OK);
        Assert.False(removed.Content().GetProperty("datasetSelections")[0].TryGetProperty("processDatasetDescription", out var left) && left.ValueKind != JsonValueKind.Null);
    }

    // ---- orders (OrderControllerIT, OrderControllerLinksIT) ---------------------------------------------------

    [Fact]
    public async Task Creating_an_order_answers_201_with_REGARDS_OrderDto_in_its_envelope_and_absolute_gateway_links()
    {
        var client = await UserAsync();
        await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", new { engineType = "legacy", datasetUrn = CatalogGenerator.SwotId, searchParameters = new { q = new[] { "SSH_001_02" } } }), HttpStatusCode.OK);
        var response = await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label = "myCommand", onSuccessUrl = "http://perdu.com" });
        var model = await JsonAsync(response, HttpStatusCode.Created);
        AssertEnvelope(model);
        var order = model.Content();
        Assert.Equal(DemoUsers.User, order.GetProperty("owner").GetString());
        Assert.Equal("myCommand", order.GetProperty("label").GetString());
        var self = $"{Root}{Gateway}/user/orders/{order.Id()}";
        Assert.Equal(self, response.Headers.Location!.ToString());
        Assert.Equal(self, model.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("rel").GetString() == "self").GetProperty("href").GetString());

        var done = await GetOrderModelAsync(client, order.Id());
        AssertEnvelope(done);
        AssertKinds(done.Content(), ("id", JsonValueKind.Number), ("owner", JsonValueKind.String), ("label", JsonValueKind.String),
            ("creationDate", JsonValueKind.String), ("status", JsonValueKind.String), ("statusDate", JsonValueKind.String),
            ("percentCompleted", JsonValueKind.Number), ("filesInErrorCount", JsonValueKind.Number), ("availableFilesCount", JsonValueKind.Number),
            ("datasetTasks", JsonValueKind.Array));
        Assert.Contains(done.Content().GetProperty("waitingForUser").ValueKind, new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.False(done.Content().TryGetProperty("links", out _)); // links are the envelope's, as REGARDS'
        var finished = await WaitForOrderAsync(client, order.Id(), o => o.Status() == "DONE");
        var task = finished.GetProperty("datasetTasks")[0];
        AssertKinds(task, ("id", JsonValueKind.Number), ("datasetLabel", JsonValueKind.String), ("objectsCount", JsonValueKind.Number),
            ("filesCount", JsonValueKind.Number), ("filesSize", JsonValueKind.Number));
        Assert.True(DateTimeOffset.TryParse(finished.GetProperty("expirationDate").GetString(), out _));
    }

    [Fact]
    public async Task Label_errors_are_422_with_REGARDS_message_keys()
    {
        var client = await UserAsync();
        await DoneOrderAsync(client, "myDoubleCommand");
        await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", new { engineType = "legacy", datasetUrn = CatalogGenerator.SwotId, searchParameters = new { q = new[] { "SSH_001_003" } } }), HttpStatusCode.OK);
        await AssertErrorAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label = "myDoubleCommand" }), HttpStatusCode.UnprocessableEntity, "LABEL_NOT_UNIQUE", "LABEL_NOT_UNIQUE_FOR_OWNER");
        await AssertErrorAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label = "this-label-has-too-many-characters-if-we-append(51)" }),
            HttpStatusCode.UnprocessableEntity, "LABEL_TOO_LONG", "TOO_MANY_CHARACTERS_IN_LABEL");
        var generated = await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders", new { onSuccessUrl = "http://perdu.com" }), HttpStatusCode.Created);
        Assert.Matches(@"^Order of \d{4}/\d{2}/\d{2} at \d{2}:\d{2}:\d{2}$", generated.Content().GetProperty("label").GetString());
        // No basket at all: 204 (EmptyBasketException).
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label = "nothing" })).StatusCode);
    }

    [Fact]
    public async Task Order_links_follow_REGARDS_rels_and_order_for_each_status_and_caller()
    {
        var client = await UserAsync();
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var done = await DoneOrderAsync(client, "links-done");
        // OrderControllerLinksIT, DONE: self, list, download, delete, restart (+ the portal's metalink, after REGARDS' rels).
        Assert.Equal(["self", "list", "download", "delete", "restart", "metalink"], (await GetOrderModelAsync(client, done.Id())).Links());
        var list = (await GetOrderModelAsync(client, done.Id())).GetProperty("links").EnumerateArray().Single(l => l.GetProperty("rel").GetString() == "list");
        Assert.Equal($"{Root}/api/user/orders", list.GetProperty("href").GetString());

        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"{Gateway}/user/orders/{done.Id()}")).StatusCode);
        // DELETED: a user sees self and list; an admin also remove.
        Assert.Equal(["self", "list"], (await GetOrderModelAsync(client, done.Id())).Links());
        Assert.Equal(["self", "list", "remove"], (await GetOrderModelAsync(admin, done.Id())).Links());

        // PAUSED (a nearline order still restoring): self, list, resume, delete.
        await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", new { engineType = "legacy", datasetUrn = CatalogGenerator.SentinelId, searchParameters = new { q = new[] { "00001" } } }), HttpStatusCode.OK);
        var nearline = (await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders", new { label = "links-paused" }), HttpStatusCode.Created)).Content();
        await WaitForOrderAsync(client, nearline.Id(), o => o.Status() == "RUNNING");
        Assert.Equal(["self", "list", "pause", "metalink"], (await GetOrderModelAsync(client, nearline.Id())).Links());
        Assert.Equal(HttpStatusCode.OK, (await client.PutAsync($"{Gateway}/user/orders/pause/{nearline.Id()}", null)).StatusCode);
        var paused = await WaitForOrderAsync(client, nearline.Id(), o => o.Status() == "PAUSED");
        await WaitAsync(async () => (await GetOrderModelAsync(client, paused.Id())).Links().Contains("resume"));
        Assert.Equal(["self", "list", "resume", "delete", "metalink"], (await GetOrderModelAsync(client, nearline.Id())).Links());
    }

    [Fact]
    public async Task Pages_are_REGARDS_PagedModels_with_metadata_elements_and_page_links()
    {
        var client = await UserAsync();
        await DoneOrderAsync(client, "page-1");
        await DoneOrderAsync(client, "page-2");
        var page = await JsonAsync(await client.GetAsync($"{Gateway}/user/orders?page=0&size=1"), HttpStatusCode.OK);
        var metadata = page.GetProperty("metadata");
        AssertKinds(metadata, ("size", JsonValueKind.Number), ("totalElements", JsonValueKind.Number), ("totalPages", JsonValueKind.Number), ("number", JsonValueKind.Number));
        Assert.Equal(1, metadata.GetProperty("size").GetInt32());
        Assert.True(metadata.GetProperty("totalElements").GetInt32() >= 2);
        var element = Assert.Single(page.GetProperty("content").EnumerateArray());
        AssertEnvelope(element);
        Assert.Contains("self", element.Links());
        var rels = page.Links();
        Assert.Equal(["first", "self", "next", "last"], rels);
        var next = page.GetProperty("links").EnumerateArray().Single(l => l.GetProperty("rel").GetString() == "next").GetProperty("href").GetString()!;
        Assert.StartsWith($"{Root}{Gateway}/user/orders?", next);
        var second = await JsonAsync(await client.GetAsync(next), HttpStatusCode.OK);
        Assert.Equal(1, second.GetProperty("metadata").GetProperty("number").GetInt32());
        Assert.NotEqual(element.Content().Id(), second.GetProperty("content")[0].Content().Id());
    }

    [Fact]
    public async Task Admin_search_takes_REGARDS_SearchRequestParameters_and_the_csv_starts_with_REGARDS_ten_columns()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "search-me");
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        // As OrderControllerIT and regards-frontend's admin filters send it (matchMode, ignoreCase, waitingForUser as a string).
        var body = """{"owner":"user@regards.local","statuses":{"values":["DONE"],"mode":"INCLUDE","matchMode":"STRICT","ignoreCase":false},"creationDate":{},"waitingForUser":"true"}""";
        var page = await JsonAsync(await admin.PostAsync($"{Gateway}/orders/search?page=0&size=100&sort=creationDate,DESC", new StringContent(body, System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.OK);
        Assert.Contains(page.Elements(), o => o.Id() == done.Id());
        Assert.All(page.Elements(), o => Assert.Equal("DONE", o.Status()));

        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Gateway}/orders/csv") { Content = new StringContent("""{"creationDate":{}}""", System.Text.Encoding.UTF8, "application/json") };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/csv"));
        var csv = await admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        var lines = (await csv.Content.ReadAsStringAsync()).Split('\n');
        Assert.StartsWith("ORDER_ID;CREATION_DATE;EXPIRATION_DATE;OWNER;STATUS;STATUS_DATE;PERCENT_COMPLETE;FILES_IN_ERROR;FILES_SIZE;FILES_COUNT;", lines[0]);
        var row = lines.Single(l => l.StartsWith(done.Id() + ";", StringComparison.Ordinal)).Split(';');
        Assert.Equal(DemoUsers.User, row[3]);
        Assert.Equal("DONE", row[4]);
        Assert.Equal("100", row[6]);
        Assert.Equal(done.GetProperty("filesCount").GetInt32().ToString(), row[9]);
    }

    // ---- files (OrderDataFileControllerIT, OrderDataFileAvailableController) -----------------------------------

    [Fact]
    public async Task File_listings_are_REGARDS_OrderDataFile_and_OrderDataFileDTO_with_absolute_urls()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "files");
        var taskId = done.GetProperty("datasetTasks")[0].GetProperty("id").GetInt64();
        var page = await JsonAsync(await client.GetAsync($"{Gateway}/orders/{done.Id()}/dataset/{taskId}/files?page=0&size=20"), HttpStatusCode.OK);
        var element = page.GetProperty("content")[0];
        AssertEnvelope(element);
        var file = element.Content();
        AssertKinds(file, ("id", JsonValueKind.Number), ("state", JsonValueKind.String), ("orderId", JsonValueKind.Number), ("filesTaskId", JsonValueKind.Number),
            ("ipId", JsonValueKind.String), ("productId", JsonValueKind.String), ("version", JsonValueKind.Number), ("dataType", JsonValueKind.String),
            ("reference", JsonValueKind.False), ("uri", JsonValueKind.String), ("mimeType", JsonValueKind.String), ("online", JsonValueKind.True),
            ("checksum", JsonValueKind.String), ("digestAlgorithm", JsonValueKind.String), ("filesize", JsonValueKind.Number), ("filename", JsonValueKind.String));
        Assert.Equal(done.Id(), file.GetProperty("orderId").GetInt64());
        Assert.Equal($"{Root}{Gateway}/orders/files/{file.Id()}", Assert.Single(element.GetProperty("links").EnumerateArray()).GetProperty("href").GetString());

        var available = await JsonAsync(await client.GetAsync($"{Gateway}/orders/{done.Id()}/files/available?page=0&size=100"), HttpStatusCode.OK);
        var first = available.GetProperty("content")[0];
        Assert.Empty(first.GetProperty("links").EnumerateArray());
        var dto = first.Content();
        AssertKinds(dto, ("id", JsonValueKind.Number), ("productId", JsonValueKind.String), ("version", JsonValueKind.Number), ("downloadUrl", JsonValueKind.String),
            ("mimeType", JsonValueKind.String), ("checksum", JsonValueKind.String), ("filesize", JsonValueKind.Number), ("filename", JsonValueKind.String));
        var downloadUrl = dto.GetProperty("downloadUrl").GetString()!;
        Assert.Equal($"{Root}{Gateway}/orders/files/{dto.Id()}", downloadUrl);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(downloadUrl)).StatusCode);

        // The files of one files task (sub-order): REGARDS' second available-files endpoint.
        var filesTaskId = file.GetProperty("filesTaskId").GetInt64();
        var ofTask = await JsonAsync(await client.GetAsync($"{Gateway}/orders/{done.Id()}/filesTask/{filesTaskId}/files/available?size=1000"), HttpStatusCode.OK);
        await using (var db = factory.CreateDbContext())
        {
            var expected = await db.OrderFiles.Where(f => f.SubOrderId == filesTaskId && f.State == OrderFileState.Available).Select(f => f.Id).OrderBy(id => id).ToListAsync();
            Assert.Equal(expected, ofTask.Elements().Select(f => f.Id()));
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Gateway}/orders/{done.Id()}/filesTask/{filesTaskId + 100_000}/files/available")).StatusCode);
        var other = await DoneOrderAsync(client, "files-other");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Gateway}/orders/{other.Id()}/filesTask/{filesTaskId}/files/available")).StatusCode);
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.GetAsync($"{Gateway}/orders/{done.Id()}/filesTask/{filesTaskId}/files/available")).StatusCode);
    }

    // ---- automatic order (AutoOrderControllerIT) ---------------------------------------------------------------

    [Fact]
    public async Task Apply_makes_an_order_from_queries_without_touching_the_cart_and_answers_REGARDS_OrderResponseDto()
    {
        var client = await UserAsync();
        await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/order/basket/selection", new { engineType = "legacy", datasetUrn = CatalogGenerator.SwotId, searchParameters = new { q = new[] { "SSH_001_002" } } }), HttpStatusCode.OK);
        var cartBefore = (await JsonAsync(await client.GetAsync($"{Gateway}/order/basket"), HttpStatusCode.OK)).Content().GetRawText();

        var granted = await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders/apply",
            new { queries = new[] { "SSH_001_005" }, filters = new { dataTypes = new[] { "RAWDATA" } }, correlationId = "corr-1" }), HttpStatusCode.OK);
        Assert.Empty(granted.GetProperty("links").EnumerateArray());
        var content = granted.Content();
        Assert.Equal("GRANTED", content.GetProperty("status").GetString());
        Assert.Equal("corr-1", content.GetProperty("correlationId").GetString());
        Assert.False(content.TryGetProperty("message", out _));
        var order = await WaitForOrderAsync(client, content.GetProperty("orderId").GetInt64(), o => o.Status() == "DONE");
        Assert.StartsWith("Generated order ", order.GetProperty("label").GetString());
        await using (var db = factory.CreateDbContext())
        {
            var types = await db.OrderFiles.Where(f => f.OrderId == order.Id()).Select(f => f.DataType).Distinct().ToListAsync();
            Assert.Equal([DataType.RawData], types);
        }
        Assert.Equal(cartBefore, (await JsonAsync(await client.GetAsync($"{Gateway}/order/basket"), HttpStatusCode.OK)).Content().GetRawText());

        var empty = (await JsonAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders/apply",
            new { queries = new[] { "no-such-object-anywhere" }, filters = new { dataTypes = new[] { "QUICKLOOK" } } }), HttpStatusCode.UnprocessableEntity)).Content();
        Assert.Equal("FAILED", empty.GetProperty("status").GetString());
        Assert.Equal("EMPTY_ORDER", empty.GetProperty("errorType").GetString());
        Assert.False(empty.TryGetProperty("orderId", out _));
        Assert.StartsWith("auto-correlation-id-", empty.GetProperty("correlationId").GetString());

        await AssertErrorAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders/apply", new { queries = Array.Empty<string>() }),
            HttpStatusCode.UnprocessableEntity, "QUERIES_REQUIRED", "list of queries should not be empty");
        await AssertErrorAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders/apply", new { queries = new[] { "" } }), HttpStatusCode.UnprocessableEntity, "EMPTY_QUERY",
            "A query may not be empty; '*' orders every object you may order.");
        await AssertErrorAsync(await client.PostAsJsonAsync($"{Gateway}/user/orders/apply", new { queries = new[] { "x" }, filters = new { dataTypes = new[] { "THUMBNAIL" } } }),
            HttpStatusCode.UnprocessableEntity, "BAD_DATA_TYPE", "Unknown data type 'THUMBNAIL': RAWDATA or QUICKLOOK.");
    }

    // ---- ?token= and the gateway ------------------------------------------------------------------------------

    [Fact]
    public async Task Download_links_built_with_token_work_with_curl_on_zip_metalink_and_file_only_and_the_token_is_never_logged()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "query-token");
        var token = client.DefaultRequestHeaders.Authorization!.Parameter!;
        var fileId = (await JsonAsync(await client.GetAsync($"{Gateway}/orders/{done.Id()}/files/available"), HttpStatusCode.OK)).GetProperty("content")[0].Content().Id();
        var folder = Path.Combine(factory.DataPath, "curl-token");
        Directory.CreateDirectory(folder);

        // As regards-frontend builds them: {gateway}/api/v1/rs-order/...?token=<access token>.
        foreach (var (path, file) in new[]
        {
            ($"{Gateway}/user/orders/{done.Id()}/download", "order.zip"),
            ($"{Gateway}/user/orders/{done.Id()}/metalink/download", "order.metalink"),
            ($"{Gateway}/orders/files/{fileId}", "one.file"),
        })
        {
            var (code, output) = await Tools.RunAsync("curl", $"-fsS -o {Path.Combine(folder, file)} \"{Root}{path}?token={Uri.EscapeDataString(token)}\"");
            Assert.True(code == 0, $"{path}: {output}");
            Assert.True(new FileInfo(Path.Combine(folder, file)).Length > 0);
        }
        var (unzip, listing) = await Tools.RunAsync("unzip", $"-t {Path.Combine(folder, "order.zip")}");
        Assert.True(unzip == 0, listing);

        // Nowhere else: not on an order, a listing, a basket, a write; not on HEAD; not a bad token.
        var anonymous = factory.CreateAnonymousClient();
        var query = "?token=" + Uri.EscapeDataString(token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{Gateway}/user/orders/{done.Id()}{query}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{Gateway}/user/orders{query}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{Gateway}/orders/{done.Id()}/files/available{query}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.DeleteAsync($"{Gateway}/user/orders/{done.Id()}{query}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{Gateway}/orders/files/{fileId}{query}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"{Gateway}/orders/files/{fileId}?token=forged")).StatusCode);
        Assert.Equal("DONE", (await GetOrderAsync(client, done.Id())).Status());

        Assert.DoesNotContain(factory.Logs, line => line.Contains(token, StringComparison.Ordinal) || line.Contains(Uri.EscapeDataString(token), StringComparison.Ordinal));
        // The capture does see the framework's request logging (so the check above could fail).
        Assert.Contains(factory.Logs, line => line.StartsWith("Microsoft.AspNetCore.Routing", StringComparison.Ordinal) && line.Contains("/api/orders/files/{fileId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Every_rs_order_path_is_served_under_the_gateway_prefix_and_nothing_else_is()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "gateway");
        var direct = await JsonAsync(await client.GetAsync($"/api/user/orders/{done.Id()}"), HttpStatusCode.OK);
        var viaGateway = await JsonAsync(await client.GetAsync($"{Gateway}/user/orders/{done.Id()}"), HttpStatusCode.OK);
        Assert.Equal(direct.Content().GetRawText(), viaGateway.Content().GetRawText());
        // Links keep the prefix the client used.
        Assert.All(direct.GetProperty("links").EnumerateArray(), l => Assert.StartsWith($"{Root}/api/", l.GetProperty("href").GetString()));
        Assert.All(direct.GetProperty("links").EnumerateArray(), l => Assert.DoesNotContain("/rs-order/", l.GetProperty("href").GetString()));
        Assert.All(viaGateway.GetProperty("links").EnumerateArray(), l => Assert.StartsWith($"{Root}{Gateway}/", l.GetProperty("href").GetString()));

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Gateway}/user/orders/{done.Id()}/metalink/download")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Gateway}/user/orders/{done.Id()}/download")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"{Gateway}/order/basket")).StatusCode);
        // Not rs-order's: the catalog and sign-in are other REGARDS services.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Gateway}/catalog/datasets")).StatusCode);
        Assert.Contains((await client.PostAsJsonAsync($"{Gateway}/identity/login", new { email = "x", password = "y" })).StatusCode, new[] { HttpStatusCode.NotFound, HttpStatusCode.MethodNotAllowed });
    }

    // ---- the portal's deliberate differences --------------------------------------------------------------------

    [Fact]
    public async Task Deliberate_refused_state_changes_are_409_with_REGARDS_key_not_401()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "deliberate-409");
        await AssertErrorAsync(await client.PutAsync($"{Gateway}/user/orders/pause/{done.Id()}", null), HttpStatusCode.Conflict, "ORDER_MUST_BE_PENDING_OR_RUNNING");
        await AssertErrorAsync(await client.PutAsync($"{Gateway}/user/orders/resume/{done.Id()}", null), HttpStatusCode.Conflict, "ORDER_MUST_BE_PAUSED");
        await AssertErrorAsync(await client.PutAsync($"{Gateway}/user/orders/{done.Id()}/retry", null), HttpStatusCode.Conflict, "ORDER_MUST_BE_DONE_WITH_WARNING_OR_FAILED");
    }

    [Fact]
    public async Task Deliberate_another_users_order_and_files_are_404_not_403()
    {
        var client = await UserAsync();
        var done = await DoneOrderAsync(client, "deliberate-404");
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        await AssertErrorAsync(await guest.GetAsync($"{Gateway}/user/orders/{done.Id()}"), HttpStatusCode.NotFound, "NOT_FOUND");
        var taskId = done.GetProperty("datasetTasks")[0].GetProperty("id").GetInt64();
        // REGARDS checks no ownership on this listing; the portal does.
        await AssertErrorAsync(await guest.GetAsync($"{Gateway}/orders/{done.Id()}/dataset/{taskId}/files"), HttpStatusCode.NotFound, "NOT_FOUND");
    }
}
