using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Catalog;
using Regards.Portal.Tests.Infrastructure;
using Regards.Portal.Tests.Orders;

namespace Regards.Portal.Tests.Basket;

/// <summary>Every basket endpoint with its success and failure codes, through the real pipeline.</summary>
public sealed class BasketApiTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private static readonly string Swot = CatalogGenerator.SwotId;
    private static readonly string Sentinel = CatalogGenerator.SentinelId;

    private async Task<HttpClient> FreshUserAsync()
    {
        // Each test works on its own cart: clear it first.
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/order/basket")).StatusCode);
        return client;
    }

    private static async Task<JsonElement> AddAsync(HttpClient client, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.PostAsJsonAsync("/api/order/basket/selection", body);
        Assert.Equal(expected, response.StatusCode);
        return expected == HttpStatusCode.OK ? (await response.Content.ReadFromJsonAsync<JsonElement>()).Content() : default;
    }

    private async Task<List<string>> ObjectIdsAsync(string datasetId, int take)
    {
        await using var db = factory.CreateDbContext();
        return await db.DataObjects.Where(o => o.DatasetId == datasetId && o.Files.Any()).OrderBy(o => o.Id).Select(o => o.Id).Take(take).ToListAsync();
    }

    [Fact]
    public async Task A_whole_dataset_selection_is_counted_on_the_server_and_the_cart_is_returned()
    {
        var client = await FreshUserAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);

        var basket = await AddAsync(client, new { datasetId = Swot });
        var selection = basket.GetProperty("datasetSelections")[0];
        Assert.Equal(Swot, selection.GetProperty("datasetIpid").GetString());
        Assert.Equal(20, selection.GetProperty("objectsCount").GetInt32()); // the calibration note has no file
        Assert.Equal(DemoUsers.User, basket.GetProperty("owner").GetString());

        await using var db = factory.CreateDbContext();
        var expectedFiles = await db.DataFiles.CountAsync(f => f.DataObject!.DatasetId == Swot);
        var expectedSize = await db.DataFiles.Where(f => f.DataObject!.DatasetId == Swot).SumAsync(f => f.Size ?? 0);
        Assert.Equal(expectedFiles, selection.GetProperty("filesCount").GetInt32());
        Assert.Equal(expectedSize, selection.GetProperty("filesSize").GetInt64());
        var item = selection.GetProperty("itemsSelections")[0];
        Assert.Equal(20, item.GetProperty("objectsCount").GetInt32());
        Assert.Equal(Swot, item.GetProperty("selectionRequest").GetProperty("datasetUrn").GetString());

        var get = (await client.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content();
        Assert.Equal(basket.GetProperty("id").GetInt64(), get.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task Objects_added_twice_are_counted_once_and_removing_a_dated_selection_recomputes()
    {
        var client = await FreshUserAsync();
        var ids = await ObjectIdsAsync(Sentinel, 5);
        await AddAsync(client, new { includeIds = ids.Take(3) });
        var basket = await AddAsync(client, new { includeIds = ids.Skip(1) });
        var selection = basket.GetProperty("datasetSelections")[0];
        Assert.Equal(5, selection.GetProperty("objectsCount").GetInt32());
        var items = selection.GetProperty("itemsSelections").EnumerateArray().ToList();
        Assert.Equal(2, items.Count);
        Assert.Equal(7, items.Sum(i => i.GetProperty("objectsCount").GetInt32()));

        var dsSelId = selection.GetProperty("id").GetInt64();
        var firstDate = items[0].GetProperty("date").GetDateTime().ToUniversalTime().ToString("O");
        var removed = await client.DeleteAsync($"/api/order/basket/dataset/{dsSelId}/{Uri.EscapeDataString(firstDate)}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        var after = (await removed.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0];
        Assert.Equal(4, after.GetProperty("objectsCount").GetInt32());
        Assert.Single(after.GetProperty("itemsSelections").EnumerateArray());

        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/order/basket/dataset/{dsSelId}/{Uri.EscapeDataString(firstDate)}")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.DeleteAsync($"/api/order/basket/dataset/{dsSelId}/not-a-date")).StatusCode);
    }

    [Fact]
    public async Task Removing_a_dataset_selection_and_clearing_the_cart()
    {
        var client = await FreshUserAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/order/basket/dataset/1")).StatusCode);
        await AddAsync(client, new { datasetId = Swot });
        var basket = await AddAsync(client, new { datasetId = Sentinel });
        Assert.Equal(2, basket.GetProperty("datasetSelections").GetArrayLength());
        var dsSelId = basket.GetProperty("datasetSelections")[0].GetProperty("id").GetInt64();

        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync("/api/order/basket/dataset/999999")).StatusCode);
        var removed = await client.DeleteAsync($"/api/order/basket/dataset/{dsSelId}");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        Assert.Equal(1, (await removed.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections").GetArrayLength());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/api/order/basket")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
    }

    [Fact]
    public async Task Nothing_orderable_gives_204_and_writes_nothing()
    {
        var client = await FreshUserAsync();
        await AddAsync(client, new { q = "calibration note" }, HttpStatusCode.NoContent);
        await AddAsync(client, new { q = "no-such-object-anywhere" }, HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
    }

    [Fact]
    public async Task Access_rules_refuse_metadata_only_and_invisible_datasets_and_anonymous_callers()
    {
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        var forbidden = await guest.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = CatalogGenerator.SpotId });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = CatalogGenerator.CalipsoId })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await guest.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = "URN:AIP:DATASET:nope" })).StatusCode);
        // A search over every dataset only adds what the guest may order.
        var everything = await guest.PostAsJsonAsync("/api/order/basket/selection", new { q = "_" });
        var datasets = (await everything.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections").EnumerateArray().Select(d => d.GetProperty("datasetIpid").GetString()).ToList();
        Assert.DoesNotContain(CatalogGenerator.SpotId, datasets);
        Assert.DoesNotContain(CatalogGenerator.CalipsoId, datasets);
        await guest.DeleteAsync("/api/order/basket");

        var anonymous = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = CatalogGenerator.SwotId })).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/order/basket")).StatusCode);
    }

    [Fact]
    public async Task Malformed_bodies_get_400_problems()
    {
        var client = await FreshUserAsync();
        var response = await client.PostAsync("/api/order/basket/selection", new StringContent("{not json", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var wrongType = await client.PostAsync("/api/order/basket/selection", new StringContent("{\"includeIds\": 12}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        var badRange = await client.PostAsJsonAsync("/api/order/basket/selection", new { from = "2024-02-01T00:00:00Z", to = "2024-01-01T00:00:00Z" });
        Assert.Equal("BAD_DATE_RANGE", (await badRange.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Upload_of_provider_ids_adds_them_and_over_1000_lines_is_413_with_nothing_written()
    {
        var client = await FreshUserAsync();
        await using (var db = factory.CreateDbContext())
        {
            var providerIds = await db.DataObjects.Where(o => o.DatasetId == Swot && o.Files.Any()).OrderBy(o => o.Id).Select(o => o.ProviderId).Take(4).ToListAsync();
            var ok = await UploadAsync(client, string.Join("\n", providerIds.Append("UNKNOWN_ID").Append("")));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal(4, (await ok.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0].GetProperty("objectsCount").GetInt32());
        }
        await client.DeleteAsync("/api/order/basket");

        var tooMany = await UploadAsync(client, string.Join("\n", Enumerable.Range(0, 1001).Select(i => $"ID_{i}")));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await UploadAsync(client, "\n\n")).StatusCode);
    }

    private static Task<HttpResponseMessage> UploadAsync(HttpClient client, string text)
    {
        var content = new MultipartFormDataContent();
        var file = new StringContent(text);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        content.Add(file, "file", "ids.txt");
        return client.PostAsync("/api/order/basket/selection/upload", content);
    }

    [Fact]
    public async Task File_filters_restrict_counted_files_and_refuse_bad_regexes_and_processing_needs_a_known_one()
    {
        var client = await FreshUserAsync();
        var basket = await AddAsync(client, new { datasetId = Swot });
        var selection = basket.GetProperty("datasetSelections")[0];
        var dsSelId = selection.GetProperty("id").GetInt64();
        var allFiles = selection.GetProperty("filesCount").GetInt32();

        var filtered = await client.PutAsJsonAsync($"/api/order/basket/dataset/{dsSelId}/updateFileFilters", new { fileTypes = new[] { "RAWDATA" } });
        Assert.Equal(HttpStatusCode.OK, filtered.StatusCode);
        var after = (await filtered.Content.ReadFromJsonAsync<JsonElement>()).Content().GetProperty("datasetSelections")[0];
        Assert.Equal(20, after.GetProperty("filesCount").GetInt32());
        Assert.True(allFiles > 20);
        Assert.Equal(["RAWDATA"], after.GetProperty("fileSelectionDescription").GetProperty("fileTypes").EnumerateArray().Select(t => t.GetString()));

        var bad = await client.PutAsJsonAsync($"/api/order/basket/dataset/{dsSelId}/updateFileFilters", new { fileTypes = Array.Empty<string>(), fileNamePattern = "([unclosed" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("BAD_FILE_NAME_PATTERN", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());

        var processing = await client.PutAsJsonAsync($"/api/order/basket/dataset/{dsSelId}/updateProcessing", new { processBusinessId = "compress", parameters = new { } });
        Assert.Equal(HttpStatusCode.BadRequest, processing.StatusCode); // filters are set
        var cleared = await client.PutAsync($"/api/order/basket/dataset/{dsSelId}/updateFileFilters", null);
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        var unknown = await client.PutAsJsonAsync($"/api/order/basket/dataset/{dsSelId}/updateProcessing", new { processBusinessId = "does-not-exist", parameters = new { } });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("UNKNOWN_PROCESSING", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task The_cart_limit_is_enforced_with_a_409()
    {
        using var small = new PortalAppFactory();
        small.Settings["Basket:MaxObjects"] = "10";
        var client = await small.CreateClientForAsync(DemoUsers.User);
        var refused = await client.PostAsJsonAsync("/api/order/basket/selection", new { datasetId = Swot });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("CART_LIMIT", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync("/api/order/basket")).StatusCode);
    }
}
