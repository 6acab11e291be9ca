using System.Net;
using System.Xml.Linq;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Reliability;

/// <summary>
/// quality.md §3 "Expiry": when a nearline order expires, the files restored for it leave the cache and its public
/// links stop working at once, even those that opened a file a moment before (no cached lookup outlives the order).
/// On each provider.
/// </summary>
public abstract class ExpiryTests : IDisposable
{
    public sealed class OnSqlite() : ExpiryTests(DatabaseProvider.Sqlite);

    public sealed class OnPostgreSql() : ExpiryTests(DatabaseProvider.PostgreSql);

    private readonly PortalAppFactory factory;

    protected ExpiryTests(DatabaseProvider provider)
    {
        factory = PortalAppFactory.For(provider);
        factory.Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        factory.Settings["Orders:PollInterval"] = "00:00:00.050";
    }

    public void Dispose() => factory.Dispose();

    [Fact]
    public async Task An_expired_order_releases_its_cache_and_its_public_links_stop_at_once()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Sentinel, q = "_0000" });
        var orderId = (await CreateOrderAsync(client, "expiring nearline")).Id();
        await WaitForOrderAsync(client, orderId, o => o.GetProperty("availableFilesCount").GetInt32() > 0);

        // Live: restored files are in the order's cache, and a public file URL of the metalink serves bytes.
        var cache = Path.Combine(factory.DataPath, "cache", orderId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.NotEmpty(Directory.GetFiles(cache, "*", SearchOption.AllDirectories));
        var metalink = XDocument.Parse(await client.GetStringAsync($"/api/user/orders/{orderId}/metalink/download"));
        var urls = metalink.Descendants().Where(e => e.Name.LocalName == "url").Select(e => new Uri(e.Value).PathAndQuery).ToList();
        var anonymous = factory.CreateAnonymousClient();
        string? served = null;
        foreach (var url in urls)
        {
            using var response = await anonymous.GetAsync(url);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                served = url;
                Assert.NotEmpty(await response.Content.ReadAsByteArrayAsync());
                break;
            }
        }
        Assert.NotNull(served);

        await using (var db = factory.CreateDbContext())
        {
            await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s.SetProperty(o => o.ExpirationDate, DateTime.UtcNow.AddMinutes(-1)));
        }
        await factory.Services.GetRequiredService<OrderSweeper>().ExpireAsync(CancellationToken.None);

        Assert.Equal("EXPIRED", (await GetOrderAsync(client, orderId)).Status());
        Assert.False(Directory.Exists(cache), "the order's cache folder must be released");
        // The same URL, just served, now opens nothing; no URL of the order does.
        foreach (var url in urls)
        {
            using var response = await anonymous.GetAsync(url);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/user/orders/{orderId}/metalink/download")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.GetAsync($"/api/user/orders/{orderId}/download")).StatusCode);
    }

    [Fact]
    public async Task Public_links_stop_at_the_expiration_date_without_waiting_for_the_sweep()
    {
        var client = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(client, new { datasetId = Swot, q = "SSH_001_00" });
        var orderId = (await CreateOrderAsync(client, "expires between sweeps")).Id();
        await WaitForOrderAsync(client, orderId, o => o.Status() == "DONE");
        var metalinkText = await client.GetStringAsync($"/api/user/orders/{orderId}/metalink/download");
        var urls = XDocument.Parse(metalinkText).Descendants().Where(e => e.Name.LocalName == "url").Select(e => new Uri(e.Value).PathAndQuery).ToList();
        var token = System.Web.HttpUtility.ParseQueryString(new Uri("http://x" + urls[0]).Query)["orderToken"]!;
        var anonymous = factory.CreateAnonymousClient();
        // Served, and so remembered by the public lookup cache.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync(urls[0])).StatusCode);

        // The expiration date passes (an admin moved it, or time went by): no sweep has run, no change was announced.
        await using (var db = factory.CreateDbContext())
        {
            await db.Orders.Where(o => o.Id == orderId).ExecuteUpdateAsync(s => s.SetProperty(o => o.ExpirationDate, DateTime.UtcNow.AddSeconds(-1)));
        }
        Assert.Equal("DONE", (await GetOrderAsync(client, orderId)).Status());
        foreach (var url in urls.Take(3))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(url)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync($"/api/user/orders/metalink/download?orderToken={Uri.EscapeDataString(token)}")).StatusCode);
    }
}
