using System.IO.Compression;
using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class OrdersBrowserTests(BrowserFixture browser)
{
    /// <summary>The cart's Order dialog with a fresh label; My orders opens. A screenshot is kept when it does not.</summary>
    private static async Task<string> OrderFromTheCartAsync(IPage page, string prefix, string? screenshot)
    {
        await BrowserFixture.GotoInteractiveAsync(page, "/cart");
        await page.ClickAsync("[data-testid=cart-order]");
        var label = $"{prefix}-{Guid.NewGuid():N}"[..20];
        await page.Locator("input[data-testid=order-label], [data-testid=order-label] input").First.FillAsync(label);
        if (screenshot is not null)
        {
            await BrowserFixture.ScreenshotAsync(page, screenshot);
        }
        await page.ClickAsync("[data-testid=order-confirm]");
        try
        {
            // Blazor navigates in the page (history API): poll the address, a load event may never come.
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/orders$"), new() { Timeout = 45_000 });
        }
        catch (Exception e) when (e is TimeoutException or PlaywrightException)
        {
            await BrowserFixture.ScreenshotAsync(page, $"failure-{prefix}-no-navigation");
            throw;
        }
        return label;
    }

    [Fact]
    public async Task A_user_orders_the_cart_watches_it_progress_live_and_downloads_the_zip_then_an_admin_finds_it()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        // The catalog UI has its own browser test: here the cart is filled through the API with the page's session cookie.
        var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SwotId, q = "SSH_001_01" } });
        Assert.Equal(200, added.Status);

        var label = await OrderFromTheCartAsync(page, "browser", "order-dialog");

        // My orders opens; the row moves to a staged state without any reload (pushed by the engine).
        await page.WaitForSelectorAsync("[data-interactive=true] [data-testid=orders-table]");
        var row = page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = label });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        await Assertions.Expect(row.Locator("[data-testid=order-zip]:not([disabled])")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(page, "my-orders");

        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("[data-testid=order-zip]").ClickAsync());
        var path = Path.Combine(BrowserFixture.ScreenshotFolder, "order.zip");
        await download.SaveAsAsync(path);
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.NotEmpty(archive.Entries);
        }

        await AssertRowMetalinksAsync(page, row);

        await row.Locator("[data-testid=order-detail]").ClickAsync();
        await page.WaitForSelectorAsync("[data-testid=order-files] [data-testid=file-state]");
        await BrowserFixture.ScreenshotAsync(page, "order-detail");

        var admin = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(admin, DemoUsers.Admin, "Regards!Admin1");
        await BrowserFixture.GotoInteractiveAsync(admin, "/admin/orders");
        await Assertions.Expect(admin.Locator("[data-testid=admin-orders-table] tbody tr", new() { HasText = label })).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(admin, "admin-orders");
        var csv = await admin.RunAndWaitForDownloadAsync(() => admin.ClickAsync("[data-testid=admin-summary]"));
        var csvPath = Path.Combine(BrowserFixture.ScreenshotFolder, "orders.csv");
        await csv.SaveAsAsync(csvPath);
        Assert.Contains(label, await File.ReadAllTextAsync(csvPath));
    }

    [Fact]
    public async Task A_nearline_order_waits_for_the_user_pauses_and_resumes_then_an_admin_filters_cancels_and_removes_it()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.Guest, "Regards!Guest1");
        var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SentinelId, q = "_0000" } });
        Assert.Equal(200, added.Status);
        var label = await OrderFromTheCartAsync(page, "nearline", null);
        await page.WaitForSelectorAsync("[data-interactive=true] [data-testid=orders-table]");
        var row = page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = label });
        var progress = row.Locator("[data-testid=order-progress]");

        // Two sub-orders are restored (the per-user throttle), then the order waits for the user: pushed, no reload.
        await Assertions.Expect(row.Locator("[data-testid=order-waiting-user]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(row.Locator("[data-testid=order-available-badge]")).ToBeVisibleAsync();
        var waitingAt = int.Parse((await progress.GetAttributeAsync("data-value"))!);
        Assert.InRange(waitingAt, 1, 99);
        await Assertions.Expect(row.Locator("[data-testid=order-status]")).ToHaveAttributeAsync("data-status", "RUNNING");
        await BrowserFixture.ScreenshotAsync(page, "my-orders-waiting-user");

        // Pause and resume from the row.
        await row.Locator("[data-testid=order-pause]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=order-status]")).ToHaveAttributeAsync("data-status", "PAUSED");
        await BrowserFixture.ScreenshotAsync(page, "my-orders-paused");
        await row.Locator("[data-testid=order-resume]").ClickAsync();
        await Assertions.Expect(row.Locator("[data-testid=order-status]")).ToHaveAttributeAsync("data-status", "RUNNING");

        // Downloading the available files frees the user's slots: the next sub-orders are restored, progress moves on.
        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("[data-testid=order-zip]").ClickAsync());
        var path = Path.Combine(BrowserFixture.ScreenshotFolder, "nearline.zip");
        await download.SaveAsAsync(path);
        using (var archive = ZipFile.OpenRead(path))
        {
            Assert.NotEmpty(archive.Entries);
        }

        await AssertRowMetalinksAsync(page, row);
        await Assertions.Expect(progress).Not.ToHaveAttributeAsync("data-value", waitingAt.ToString(), new() { Timeout = 30_000 });
        Assert.True(int.Parse((await progress.GetAttributeAsync("data-value"))!) > waitingAt);

        // The admin finds it by its user, exports the filtered summary, cancels it, then removes it.
        var admin = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(admin, DemoUsers.Admin, "Regards!Admin1");
        await BrowserFixture.GotoInteractiveAsync(admin, "/admin/orders");
        var userFilter = admin.Locator("input[data-testid=admin-filter-user], [data-testid=admin-filter-user] input").First;
        await userFilter.FillAsync(DemoUsers.Guest);
        // The user is picked from the suggestions, as a person would: the list then closes (a list still opening
        // after the field lost focus would cover the Apply button).
        var suggestion = admin.Locator(".mud-popover-open .mud-list-item", new() { HasText = DemoUsers.Guest });
        await suggestion.ClickAsync();
        await Assertions.Expect(suggestion).ToHaveCountAsync(0);
        await admin.ClickAsync("[data-testid=admin-filter-apply]");
        await Assertions.Expect(admin.Locator("[data-testid=admin-filter-chip]", new() { HasText = DemoUsers.Guest })).ToBeVisibleAsync();
        var rows = admin.Locator("[data-testid=admin-orders-table] tbody tr");
        await Assertions.Expect(rows.Filter(new() { HasText = label })).ToHaveCountAsync(1);
        foreach (var text in await rows.AllInnerTextsAsync())
        {
            Assert.Contains(DemoUsers.Guest, text);
        }
        var csv = await admin.RunAndWaitForDownloadAsync(() => admin.ClickAsync("[data-testid=admin-summary]"));
        var csvPath = Path.Combine(BrowserFixture.ScreenshotFolder, "orders-of-guest.csv");
        await csv.SaveAsAsync(csvPath);
        var lines = (await File.ReadAllLinesAsync(csvPath)).Skip(1).Where(l => l.Length > 0).ToList();
        Assert.Contains(lines, l => l.Contains(label));
        Assert.All(lines, l => Assert.Contains(DemoUsers.Guest, l));

        var adminRow = rows.Filter(new() { HasText = label });
        await adminRow.Locator("[data-testid=order-cancel]").ClickAsync();
        await admin.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Assertions.Expect(adminRow.Locator("[data-testid=order-status]")).ToHaveAttributeAsync("data-status", "DELETED", new() { Timeout = 30_000 });
        await BrowserFixture.ScreenshotAsync(admin, "admin-orders-cancelled");
        await adminRow.Locator("[data-testid=order-remove]").ClickAsync();
        await admin.Locator(".mud-dialog").GetByRole(AriaRole.Button, new() { Name = "Confirm" }).ClickAsync();
        await Assertions.Expect(rows.Filter(new() { HasText = label })).ToHaveCountAsync(0);

        // The user's page follows: the order is gone there too.
        await Assertions.Expect(row).ToHaveCountAsync(0, new() { Timeout = 30_000 });
    }

    /// <summary>Both metalinks of the row, with the session cookie, saved under REGARDS' name pattern (no ':' in it).</summary>
    private static async Task AssertRowMetalinksAsync(IPage page, ILocator row)
    {
        foreach (var (button, extension) in new[] { ("order-metalink", "metalink"), ("order-metalink4", "meta4") })
        {
            var metalink = await page.RunAndWaitForDownloadAsync(() => row.Locator($"[data-testid={button}]").ClickAsync());
            Assert.Matches($@"^order_\d+_\d{{4}}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.{extension}$", metalink.SuggestedFilename);
            var saved = Path.Combine(BrowserFixture.ScreenshotFolder, metalink.SuggestedFilename);
            await metalink.SaveAsAsync(saved);
            await using var document = File.OpenRead(saved);
            if (extension == "metalink")
            {
                // What the REGARDS Downloader reads from it: the portal's files, with the MD5 it verifies and 503 while not ready.
                var links = Downloads.RegardsDownloaderParser.Parse(document).Where(l => l.Url!.Contains("/api/orders/public/files/")).ToList();
                Assert.NotEmpty(links);
                Assert.All(links, l => Assert.Equal("md5", l.HashType));
                Assert.All(links, l => Assert.EndsWith("&notReady=503", l.Url));
            }
            else
            {
                Assert.Equal("urn:ietf:params:xml:ns:metalink", System.Xml.Linq.XDocument.Load(document).Root!.Name.NamespaceName);
            }
        }
    }
}
