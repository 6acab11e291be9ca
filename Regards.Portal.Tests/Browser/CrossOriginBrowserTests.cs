using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using Regards.Portal.Catalog;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// CSRF from a same-site origin: a page served from another port of the portal's host, opened by a signed-in user,
/// posts to the API with the user's cookie (no preflight for a bodiless POST). Playwright serves that page itself.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class CrossOriginBrowserTests(BrowserFixture browser)
{
    /// <summary>A "simple" cross-origin request: no preflight, the cookie goes with it, the answer stays opaque (0).</summary>
    private const string Fetch = """
        async ([url, method]) => {
          try { const r = await fetch(url, { method, mode: 'no-cors', credentials: 'include' }); return r.type === 'opaque' ? 0 : r.status; }
          catch { return -1; }
        }
        """;

    [Fact]
    public async Task A_page_of_another_port_cannot_order_the_cart_of_a_signed_in_user_while_the_portal_pages_still_can()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.Guest, "Regards!Guest1");
        var portal = browser.BaseAddress;
        var added = await page.APIRequest.PostAsync(new Uri(portal, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = CatalogGenerator.SwotId, q = "SSH_001_00" } });
        Assert.Equal(200, added.Status);
        int ordersBefore;
        await using (var db = browser.App.CreateDbContext())
        {
            ordersBefore = await db.Orders.CountAsync(o => o.Owner == DemoUsers.Guest);
        }

        // The attacker's page: same host, another port.
        using var site = new AttackerSite(portal.Host);
        await page.GotoAsync(site.Page);
        // The request does leave (an opaque answer, not a network error): it is the server that must refuse it.
        var orderResponse = page.WaitForResponseAsync(new Uri(portal, "/api/user/orders").ToString());
        Assert.Equal(0, await page.EvaluateAsync<int>(Fetch, new object[] { new Uri(portal, "/api/user/orders").ToString(), "POST" }));
        Assert.Equal(403, (await orderResponse).Status);

        await using (var db = browser.App.CreateDbContext())
        {
            Assert.Equal(ordersBefore, await db.Orders.CountAsync(o => o.Owner == DemoUsers.Guest));
            Assert.True(await db.Baskets.AnyAsync(b => b.Owner == DemoUsers.Guest && b.OrderId == null), "the cart must be untouched");
        }

        // The portal's own page, same origin, same cookie: allowed.
        await page.GotoAsync("/orders");
        Assert.Equal(204, await page.EvaluateAsync<int>("async url => (await fetch(url, { method: 'DELETE', credentials: 'include' })).status", new Uri(portal, "/api/order/basket").ToString()));
        await using (var db = browser.App.CreateDbContext())
        {
            Assert.False(await db.Baskets.AnyAsync(b => b.Owner == DemoUsers.Guest && b.OrderId == null));
        }
    }

    /// <summary>A real page on another port of the same host (a page Playwright made up would have no address, and
    /// Chromium keeps such pages from reaching a loopback server at all).</summary>
    private sealed class AttackerSite : IDisposable
    {
        private readonly System.Net.HttpListener listener = new();
        private readonly Task serving;

        public AttackerSite(string host)
        {
            var port = Tools.FreePort();
            listener.Prefixes.Add($"http://{host}:{port}/");
            listener.Start();
            Page = $"http://{host}:{port}/win-a-prize.html";
            serving = Task.Run(async () =>
            {
                while (listener.IsListening)
                {
                    System.Net.HttpListenerContext context;
                    try { context = await listener.GetContextAsync(); } catch (Exception) { return; }
                    var body = "<html><body>Congratulations</body></html>"u8.ToArray();
                    context.Response.ContentType = "text/html";
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
            });
        }

        public string Page { get; }

        public void Dispose() => listener.Close();
    }
}
