using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>A deleted order's files are gone for everyone: its owner and administrators included, by id or by list.</summary>
public sealed class DeletedOrderFilesTests(SecurityFactory factory) : IClassFixture<SecurityFactory>
{
    [Fact]
    public async Task The_files_of_a_deleted_order_are_not_served_to_its_owner_nor_to_an_admin()
    {
        long fileId;
        await using (var db = factory.CreateDbContext())
        {
            fileId = await db.OrderFiles.Where(f => f.OrderId == factory.DeletedOrder).Select(f => f.Id).FirstAsync();
        }
        foreach (var who in new[] { Who.Owner, Who.ProjectAdmin })
        {
            using var response = await factory.Session(who).GetAsync($"/api/orders/files/{fileId}");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("NOT_FOUND", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
        }
        // A live order's file still is.
        long liveFile;
        await using (var db = factory.CreateDbContext())
        {
            liveFile = await db.OrderFiles.Where(f => f.OrderId == factory.OrderA && f.State == Regards.Portal.Orders.OrderFileState.Available).Select(f => f.Id).FirstAsync();
        }
        using var live = await factory.Session(Who.Owner).GetAsync($"/api/orders/files/{liveFile}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
