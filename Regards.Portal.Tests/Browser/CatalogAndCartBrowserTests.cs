using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

[Collection(BrowserCollection.Name)]
public sealed class CatalogAndCartBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_user_signs_in_searches_adds_an_item_and_sees_the_badge_and_the_cart()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");

        await BrowserFixture.GotoInteractiveAsync(page, "/catalog");
        await page.Locator("input[data-testid=catalog-search], [data-testid=catalog-search] input").First.FillAsync("SWOT");
        await page.ClickAsync("[data-testid=catalog-search-button]");
        await page.WaitForSelectorAsync("[data-testid=catalog-table] tbody tr [data-testid=add-to-cart]:not([disabled])");
        await BrowserFixture.ScreenshotAsync(page, "catalog");

        await page.Locator("[data-testid=catalog-table] tbody tr [data-testid=add-to-cart]:not([disabled])").First.ClickAsync();
        await page.WaitForSelectorAsync(".mud-snackbar");
        // The badge updates at once, without a reload.
        await Assertions.Expect(page.Locator("[data-testid=cart-badge] .mud-badge")).ToHaveTextAsync("1");

        await page.ClickAsync("[data-testid=cart-link]");
        await page.WaitForSelectorAsync("[data-interactive=true] [data-testid=cart-table]");
        await Assertions.Expect(page.Locator("[data-testid=cart-total-objects]")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("[data-testid=cart-dataset-row]")).ToContainTextAsync("SWOT L2 ocean heights");
        await BrowserFixture.ScreenshotAsync(page, "cart");
    }
}
