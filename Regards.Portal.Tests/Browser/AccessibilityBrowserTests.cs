using System.Text;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// axe-core on every page, in English and French, signed out, as a user and as an administrator: no serious or
/// critical violation. Each page is kept as a screenshot at 1440 px and at 390 px (a phone), where nothing may be
/// wider than the window.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class AccessibilityBrowserTests(BrowserFixture browser)
{
    private static readonly string[] SignedOutPages = ["/", "/catalog", "/cart", "/orders", "/Account/Login", "/Account/Register", "/Account/ForgotPassword"];
    private static readonly string[] UserPages = ["/", "/catalog", "/cart", "/orders", "/orders/{order}"];
    private static readonly string[] AdminPages = ["/admin/orders", "/admin/modules", "/admin/settings", "/admin/processing", "/orders/{order}"];

    [Theory]
    [InlineData("signed-out", "en")]
    [InlineData("signed-out", "fr")]
    [InlineData("user", "en")]
    [InlineData("user", "fr")]
    [InlineData("admin", "en")]
    [InlineData("admin", "fr")]
    public async Task Every_page_passes_axe_without_serious_or_critical_violations(string who, string language)
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        string[] pages;
        string? order = null;
        switch (who)
        {
            case "user":
                await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
                await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
                var label = await CultureBrowserTests.OrderOnlineObjectAsync(page, $"a11y-{language}");
                await BrowserFixture.GotoInteractiveAsync(page, "/orders");
                order = (await CultureBrowserTests.IdOfAsync(page, label)).ToString();
                // Something in the cart, so that its table is scanned too.
                var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
                    new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SwotId, q = "SSH_001_02" } });
                Assert.True(added.Status is 200 or 204, $"cart: {added.Status}");
                pages = UserPages;
                break;
            case "admin":
                await BrowserFixture.SignInAsync(page, DemoUsers.Admin, "Regards!Admin1");
                await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
                var adminLabel = await CultureBrowserTests.OrderOnlineObjectAsync(page, $"a11y-admin-{language}");
                await BrowserFixture.GotoInteractiveAsync(page, "/orders");
                order = (await CultureBrowserTests.IdOfAsync(page, adminLabel)).ToString();
                pages = AdminPages;
                break;
            default:
                await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
                pages = SignedOutPages;
                break;
        }

        var report = new StringBuilder();
        foreach (var path in pages.Select(p => order is null ? p : p.Replace("{order}", order)))
        {
            await page.SetViewportSizeAsync(1440, 900);
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            // Pages that say when their circuit is interactive are scanned once they are (their data loaded).
            if (await page.Locator("[data-interactive]").CountAsync() > 0)
            {
                await page.WaitForSelectorAsync("[data-interactive=true]", new() { State = WaitForSelectorState.Attached });
            }
            await Assertions.Expect(page.Locator("html")).ToHaveAttributeAsync("lang", language);
            var name = $"page-{who}-{language}-{path.Trim('/').Replace('/', '-').Replace(order ?? "\0", "id")}";
            await BrowserFixture.ScreenshotAsync(page, name + "-1440");
            var result = await page.RunAxe();
            foreach (var violation in result.Violations.Where(v => v.Impact is "serious" or "critical"))
            {
                report.AppendLine($"{path} [{violation.Impact}] {violation.Id}: {violation.Help}");
                foreach (var node in violation.Nodes.Take(5))
                {
                    report.AppendLine($"    {string.Join(" ", node.Target?.ToString() ?? "")} {node.Html}");
                }
            }
            await page.SetViewportSizeAsync(390, 844);
            await BrowserFixture.ScreenshotAsync(page, name + "-390");
            // A phone: nothing wider than the window (the app bar folds into its menu, tables become cards).
            if (await PhoneBrowserTests.HorizontalOverflowAsync(page) is { Length: > 0 } overflow)
            {
                report.AppendLine($"{path} at 390 px: horizontal overflow: {overflow}");
            }
        }
        Assert.True(report.Length == 0, $"axe ({who}, {language}):\n{report}");
    }
}
