using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Storage;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Catalog;

public sealed class CatalogApiTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task Anonymous_callers_get_401_on_the_catalog_api()
    {
        var client = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/catalog/datasets")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/catalog/search")).StatusCode);
    }

    [Fact]
    public async Task Datasets_follow_the_access_rights_of_the_caller()
    {
        var guest = await (await factory.CreateClientForAsync(DemoUsers.Guest)).GetFromJsonAsync<JsonElement>("/api/catalog/datasets");
        var guestLevels = guest.EnumerateArray().ToDictionary(d => d.GetProperty("id").GetString()!, d => d.GetProperty("accessLevel").GetString());
        Assert.Equal("Full", guestLevels[CatalogGenerator.SwotId]);
        Assert.Equal("MetadataOnly", guestLevels[CatalogGenerator.SpotId]);
        Assert.False(guestLevels.ContainsKey(CatalogGenerator.CalipsoId));

        var user = await (await factory.CreateClientForAsync(DemoUsers.User)).GetFromJsonAsync<JsonElement>("/api/catalog/datasets");
        var userLevels = user.EnumerateArray().ToDictionary(d => d.GetProperty("id").GetString()!, d => d.GetProperty("accessLevel").GetString());
        Assert.Equal("Full", userLevels[CatalogGenerator.CalipsoId]);
        Assert.Equal("Full", userLevels[CatalogGenerator.SpotId]);
        Assert.Equal(20, user.EnumerateArray().First(d => d.GetProperty("id").GetString() == CatalogGenerator.SentinelId).GetProperty("objectsCount").GetInt32());
    }

    [Fact]
    public async Task Search_filters_pages_and_sorts_on_the_server_and_says_why_an_object_is_not_orderable()
    {
        var guest = await factory.CreateClientForAsync(DemoUsers.Guest);
        var page = await guest.GetFromJsonAsync<JsonElement>($"/api/catalog/search?datasetId={Uri.EscapeDataString(CatalogGenerator.SwotId)}&page=1&size=5&sort=providerId,asc");
        Assert.Equal(5, page.GetProperty("content").GetArrayLength());
        var metadata = page.GetProperty("metadata");
        Assert.Equal(21, metadata.GetProperty("totalElements").GetInt32()); // 20 objects + one calibration note without file
        Assert.Equal(5, metadata.GetProperty("totalPages").GetInt32());
        Assert.Equal(1, metadata.GetProperty("number").GetInt32());
        var ids = page.GetProperty("content").EnumerateArray().Select(o => o.GetProperty("providerId").GetString()!).ToList();
        Assert.Equal(ids.OrderBy(x => x, StringComparer.Ordinal), ids);

        var note = await guest.GetFromJsonAsync<JsonElement>("/api/catalog/search?q=calibration%20note");
        var first = note.GetProperty("content")[0];
        Assert.False(first.GetProperty("orderable").GetBoolean());
        Assert.Equal(NotOrderableReasons.NoOrderableFile, first.GetProperty("notOrderableReason").GetString());

        var spot = await guest.GetFromJsonAsync<JsonElement>($"/api/catalog/search?datasetId={Uri.EscapeDataString(CatalogGenerator.SpotId)}&size=1");
        Assert.Equal(NotOrderableReasons.NoDataAccess, spot.GetProperty("content")[0].GetProperty("notOrderableReason").GetString());

        var hidden = await guest.GetFromJsonAsync<JsonElement>($"/api/catalog/search?datasetId={Uri.EscapeDataString(CatalogGenerator.CalipsoId)}");
        Assert.Equal(0, hidden.GetProperty("metadata").GetProperty("totalElements").GetInt32());

        var dated = await guest.GetFromJsonAsync<JsonElement>("/api/catalog/search?from=2024-01-01T00:00:00Z&to=2024-03-31T23:59:59Z&size=1000");
        Assert.All(dated.GetProperty("content").EnumerateArray(), o =>
        {
            var date = o.GetProperty("acquisitionDate").GetDateTime();
            Assert.InRange(date, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc), new DateTime(2024, 3, 31, 23, 59, 59, DateTimeKind.Utc));
        });
    }

    [Theory]
    [InlineData("?size=1001", "BAD_PAGE")]
    [InlineData("?page=-1", "BAD_PAGE")]
    [InlineData("?sort=secret,asc", "BAD_SORT")]
    [InlineData("?sort=label,sideways", "BAD_SORT")]
    [InlineData("?from=2024-02-01&to=2024-01-01", "BAD_DATE_RANGE")]
    public async Task Bad_search_parameters_get_a_400_problem_with_a_code(string query, string code)
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        var response = await client.GetAsync("/api/catalog/search" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Demo_files_are_real_bytes_whose_sha256_matches_the_catalog()
    {
        _ = factory.CreateAnonymousClient();
        await using var db = factory.CreateDbContext();
        var files = await db.DataFiles.Where(f => f.Tier != StorageTier.External).OrderBy(f => f.Id).Take(30).ToListAsync();
        var storage = factory.Services.GetRequiredService<IFileStorage>();
        foreach (var file in files.Where(f => f.Tier == StorageTier.Online))
        {
            await using var stream = storage.OpenRead(0, new StorageFileRef(file.Tier, file.Location, file.Size!.Value, file.Checksum));
            Assert.Equal(file.Checksum, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
            Assert.InRange(file.Size.Value, 4 << 10, 8 << 20);
        }
    }
}
