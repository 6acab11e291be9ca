using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>The user's language on real Kestrel and Chromium: pushed renders (engine and API changes) keep it.</summary>
[Collection(BrowserCollection.Name)]
public sealed class CultureBrowserTests(BrowserFixture browser)
{
    [Theory]
    [InlineData("fr", @"^Vous avez \d+ commandes?$", @"^\d\d/\d\d/\d{4} \d\d:\d\d$", "En pause")]
    [InlineData("en", @"^You have \d+ orders?$", @"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d\s?[AP]M$", "Pause")]
    public async Task A_pushed_update_keeps_the_language_and_the_date_format(string language, string header, string date, string paused)
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
        var label = await OrderOnlineObjectAsync(page, $"culture-{language}");

        await BrowserFixture.GotoInteractiveAsync(page, "/orders");
        var row = page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = label });
        await Assertions.Expect(row).ToHaveCountAsync(1);
        var created = await row.Locator("[data-testid=order-created]").InnerTextAsync();
        Assert.Matches(date, created.Trim());

        // A change made elsewhere (the API, here; the engine likewise) is pushed to the open page, which re-renders.
        var id = await IdOfAsync(page, label);
        var paused200 = await page.APIRequest.PutAsync(new Uri(browser.BaseAddress, $"/api/user/orders/pause/{id}").ToString());
        Assert.Equal(200, paused200.Status);
        await Assertions.Expect(row.Locator("[data-testid=order-status]")).ToHaveAttributeAsync("data-status", "PAUSED", new() { Timeout = 20_000 });
        await BrowserFixture.ScreenshotAsync(page, $"pushed-update-{language}");

        await Assertions.Expect(row.Locator("[data-testid=order-status]")).ToHaveTextAsync(paused);
        await Assertions.Expect(page.Locator("[data-testid=orders-count]")).ToHaveTextAsync(new Regex(header));
        Assert.Equal(created, await row.Locator("[data-testid=order-created]").InnerTextAsync());
        var text = await page.Locator("main").InnerTextAsync();
        if (language == "fr")
        {
            Assert.DoesNotContain("Rows per page", text);
            Assert.DoesNotContain("You have", text);
            Assert.Contains("Lignes par page", text);
        }
    }

    /// <summary>One online SWOT object in the cart, ordered through the API with the page's session.</summary>
    internal static async Task<string> OrderOnlineObjectAsync(IPage page, string prefix, string q = "SSH_001_01")
    {
        var baseAddress = new Uri(page.Url);
        var added = await page.APIRequest.PostAsync(new Uri(baseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SwotId, q } });
        Assert.Equal(200, added.Status);
        var label = $"{prefix}-{Guid.NewGuid():N}"[..24];
        var created = await page.APIRequest.PostAsync(new Uri(baseAddress, "/api/user/orders").ToString(), new() { DataObject = new { label } });
        Assert.True(created.Status is 200 or 201, $"order: {created.Status} {await created.TextAsync()}");
        return label;
    }

    internal static async Task<long> IdOfAsync(IPage page, string label)
    {
        var href = await page.Locator("[data-testid=order-label-link]", new() { HasText = label }).GetAttributeAsync("href");
        return long.Parse(href!.Split('/').Last());
    }
}
