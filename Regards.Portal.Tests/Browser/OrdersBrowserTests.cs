using System.IO.Compression;
using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class OrdersBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_user_orders_the_cart_watches_it_progress_live_and_downloads_the_zip_then_an_admin_finds_it()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        // The catalog UI has its own browser test: here the cart is filled through the API with the page's session cookie.
        var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SwotId, q = "SSH_001_01" } });
        Assert.Equal(200, added.Status);

        await BrowserFixture.GotoInteractiveAsync(page, "/cart");
        await page.ClickAsync("[data-testid=cart-order]");
        var label = $"browser-{Guid.NewGuid():N}"[..20];
        await page.Locator("input[data-testid=order-label], [data-testid=order-label] input").First.FillAsync(label);
        await BrowserFixture.ScreenshotAsync(page, "order-dialog");
        await page.ClickAsync("[data-testid=order-confirm]");

        // My orders opens; the row moves to a staged state without any reload (pushed by the engine).
        await page.WaitForURLAsync("**/orders");
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
}
