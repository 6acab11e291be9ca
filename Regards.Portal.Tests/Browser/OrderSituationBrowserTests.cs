using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Regards.Portal.Tests.Identity;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// Issue 17, item 2, on real Kestrel and Chromium with the engine running: My orders says why an order waits (the
/// user's two preparation slots are held by another order) and what to do (download the ready parts), in French and
/// English, pushed by the engine without a reload.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class OrderSituationBrowserTests(BrowserFixture browser)
{
    /// <summary>Playwright's default 5 s is too short on the loaded 2-core machine.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions Slow = new() { Timeout = 60_000 };

    [Theory]
    [InlineData("fr", @"^Parties 1 et 2 prêtes : téléchargez-les \(\d+ fichiers, [\d,]+\s[kKMo]+o?\) pour continuer$",
        "En file d'attente : vos 2 emplacements de préparation sont occupés par la commande « {0} »")]
    [InlineData("en", @"^Parts 1 and 2 ready: download them \(\d+ files, [\d.]+\s[KM]?B\) to continue$",
        "Queued: your 2 preparation slots are used by order “{0}”")]
    public async Task My_orders_explains_the_queued_order_and_the_parts_waiting_for_the_user(string language, string waiting, string queued)
    {
        // A user of this test alone: its orders hold only its own slots (the other browser tests' users are untouched).
        var email = $"situation-{language}-{Guid.NewGuid():N}"[..24] + "@regards.local";
        const string password = "Situation!Pass1";
        await browser.App.CreateUserAsync(email, password);
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, email, password);
        await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");

        // First order: nearline objects in sub-orders of 3 files; the first two are restored and hold both slots.
        var first = await OrderSentinelAsync(page, "_0000", $"first-{language}");
        // Second order: its parts wait for a slot that the first order holds until its user downloads.
        var second = await OrderSentinelAsync(page, "_0001", $"second-{language}");

        await BrowserFixture.GotoInteractiveAsync(page, "/orders");
        var firstRow = page.Locator("[data-testid=orders-table] tbody tr", new() { Has = page.Locator("[data-testid=order-label-link]", new() { HasText = first }) });
        var secondRow = page.Locator("[data-testid=orders-table] tbody tr", new() { Has = page.Locator("[data-testid=order-label-link]", new() { HasText = second }) });
        try
        {
            await Assertions.Expect(firstRow.Locator("[data-testid=order-situation]")).ToHaveTextAsync(new Regex(waiting), Slow);
            await Assertions.Expect(secondRow.Locator("[data-testid=order-situation]")).ToHaveTextAsync(string.Format(queued, first), Slow);
        }
        finally
        {
            await BrowserFixture.ScreenshotAsync(page, $"order-situation-queued-and-waiting-{language}");
        }
        await Assertions.Expect(secondRow.Locator("[data-testid=order-situation]")).ToHaveAttributeAsync("data-kind", "QueuedBehindOtherOrders");
        await Assertions.Expect(firstRow.Locator("[data-testid=order-situation]")).ToHaveAttributeAsync("data-kind", "WaitingForUser");
        // The zip button says what it holds, in the page's language.
        await Assertions.Expect(firstRow.Locator("[data-testid=order-zip]")).ToHaveAttributeAsync("aria-label",
            new Regex(language == "fr" ? "^Zip des fichiers disponibles : 6 fichiers de \\d+ objets" : "^Zip of the available files: 6 files of \\d+ objects"));
        // The script is offered next to the metalinks.
        await Assertions.Expect(firstRow.Locator("[data-testid=order-script]")).ToHaveAttributeAsync("href", new Regex(@"^/api/user/orders/\d+/script/download$"));
    }

    /// <summary>Sentinel-3 objects whose provider id contains <paramref name="q"/>, ordered through the API with the page's session.</summary>
    private async Task<string> OrderSentinelAsync(IPage page, string q, string prefix)
    {
        var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SentinelId, q } });
        Assert.Equal(200, added.Status);
        var label = $"{prefix}-{Guid.NewGuid():N}"[..20];
        var created = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/user/orders").ToString(), new() { DataObject = new { label } });
        Assert.True(created.Status is 200 or 201, $"order: {created.Status} {await created.TextAsync()}");
        return label;
    }
}
