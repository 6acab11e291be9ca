using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>Ordering with the keyboard alone: dialogs start in their first field, Enter submits, Esc closes.</summary>
[Collection(BrowserCollection.Name)]
public sealed class KeyboardBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task A_user_orders_with_the_keyboard_only_and_esc_closes_the_dialogs()
    {
        var page = await browser.NewPageAsync();
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        var added = await page.APIRequest.PostAsync(new Uri(browser.BaseAddress, "/api/order/basket/selection").ToString(),
            new() { DataObject = new { datasetId = Regards.Portal.Catalog.CatalogGenerator.SwotId, q = "SSH_001_02" } });
        Assert.Equal(200, added.Status);
        await BrowserFixture.GotoInteractiveAsync(page, "/cart");

        // The object list of a selection: Esc closes it.
        await page.Locator("[data-testid=show-selection]").First.FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=selection-objects-dialog]")).ToBeVisibleAsync();
        // The dialog takes the focus (its first element), as a keyboard user sees it, then Esc closes it.
        await page.WaitForFunctionAsync("() => document.activeElement?.closest('.mud-dialog') != null");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("[data-testid=selection-objects-dialog]")).ToHaveCountAsync(0);

        // The order dialog: opened from the keyboard, the label field has the focus, Esc closes it.
        await page.Locator("[data-testid=cart-order]").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=order-dialog]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=order-label] input, input[data-testid=order-label]").First).ToBeFocusedAsync();
        await BrowserFixture.ScreenshotAsync(page, "keyboard-order-dialog");
        await page.Keyboard.PressAsync("Escape");
        await Assertions.Expect(page.Locator("[data-testid=order-dialog]")).ToHaveCountAsync(0);

        // Again, typed and submitted with Enter: My orders opens with the new order.
        await page.Locator("[data-testid=cart-order]").FocusAsync();
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("[data-testid=order-label] input, input[data-testid=order-label]").First).ToBeFocusedAsync();
        var label = $"keyboard-{Guid.NewGuid():N}"[..20];
        await page.Keyboard.TypeAsync(label);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/orders$"), new() { Timeout = 45_000 });
        await Assertions.Expect(page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = label })).ToHaveCountAsync(1);
        await BrowserFixture.ScreenshotAsync(page, "keyboard-ordered");
    }
}
