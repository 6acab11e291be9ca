using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// The portal on a phone (390 px) and the admin list on a wide screen (1440 px, every column shown): nothing wider
/// than the window, the key controls visible and clickable. Screenshots: <c>screenshots/phone-*.png</c>.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneBrowserTests(BrowserFixture browser)
{
    private static readonly LocatorAssertionsToBeVisibleOptions Visible = new() { Timeout = 20_000 };

    /// <summary>The page and every table container fit the window: no horizontal scrolling anywhere.</summary>
    internal static async Task AssertNoHorizontalOverflowAsync(IPage page, string where)
    {
        var overflow = await HorizontalOverflowAsync(page);
        Assert.True(overflow.Length == 0, $"{where}: horizontal overflow: {overflow}");
    }

    /// <summary>What is wider than the window (the page, a table, a toolbar, the app bar), or "" when nothing is.</summary>
    internal static Task<string> HorizontalOverflowAsync(IPage page) => page.EvaluateAsync<string>("""
            () => {
              const found = [];
              const root = document.documentElement;
              if (root.scrollWidth > window.innerWidth) found.push(`page ${root.scrollWidth} > ${window.innerWidth}`);
              for (const el of document.querySelectorAll('.mud-table-container, .mud-simple-table, .mud-toolbar, .mud-appbar'))
                if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
                  found.push(`${el.className.split(' ')[0]} ${el.scrollWidth} > ${el.clientWidth}`);
              return found.join('; ');
            }
            """);

    private static async Task PhoneMenuAsync(IPage page, string item)
    {
        await page.Locator("[data-testid=phone-menu] button").ClickAsync();
        var entry = page.Locator($"[data-testid={item}]");
        await Assertions.Expect(entry).ToBeVisibleAsync(Visible);
        await entry.ClickAsync();
    }

    [Theory]
    [InlineData("en")]
    [InlineData("fr")]
    public async Task A_phone_user_orders_from_the_catalog_and_the_admin_follows_it_at_390_px(string language)
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await BrowserFixture.SignInAsync(page, DemoUsers.Guest, "Regards!Guest1");
        await page.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
        await page.APIRequest.DeleteAsync(new Uri(browser.BaseAddress, "/api/order/basket").ToString());

        // The app bar: the wide links are folded; the menu holds the pages, the language and signing out.
        await BrowserFixture.GotoInteractiveAsync(page, "/catalog");
        await Assertions.Expect(page.Locator("[data-testid=nav-catalog]")).ToBeHiddenAsync(new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("[data-testid=cart-link]")).ToBeVisibleAsync(Visible);
        await page.Locator("[data-testid=phone-menu] button").ClickAsync();
        foreach (var item in new[] { "phone-nav-catalog", "phone-nav-orders", "phone-language-en", "phone-language-fr", "phone-sign-out" })
        {
            await Assertions.Expect(page.Locator($"[data-testid={item}]")).ToBeVisibleAsync(Visible);
        }
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-menu");
        await page.Locator("[data-testid=phone-nav-catalog]").ClickAsync();
        await page.WaitForSelectorAsync("[data-interactive=true]");

        // Catalog: cards with labelled fields; the add button of a row is visible and works.
        await page.Locator("input[data-testid=catalog-search], [data-testid=catalog-search] input").First.FillAsync("SWOT");
        await page.ClickAsync("[data-testid=catalog-search-button]");
        await Assertions.Expect(page.Locator("[data-testid=catalog-table] tbody td[data-label]").First).ToContainTextAsync("SWOT", new() { Timeout = 20_000 });
        var add = page.Locator("[data-testid=catalog-table] tbody tr [data-testid=add-to-cart]:not([disabled])").First;
        await Assertions.Expect(add).ToBeVisibleAsync(Visible);
        Assert.NotEmpty(await page.Locator("[data-testid=catalog-table] tbody td[data-label]").First.GetAttributeAsync("data-label") ?? "");
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-catalog");
        await AssertNoHorizontalOverflowAsync(page, "catalog");
        await add.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=cart-badge] .mud-badge")).ToHaveTextAsync("1", new() { Timeout = 20_000 });

        // Cart: the size, the row actions and Order are on screen.
        await page.ClickAsync("[data-testid=cart-link]");
        await page.WaitForSelectorAsync("[data-interactive=true] [data-testid=cart-table]");
        await Assertions.Expect(page.Locator("[data-testid=cart-dataset-size]")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("[data-testid=cart-total-size]")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("[data-testid=show-selection]").First).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("[data-testid=cart-delete-dataset]")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(page.Locator("[data-testid=cart-selection-description]")).ToBeVisibleAsync(Visible);
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-cart");
        await AssertNoHorizontalOverflowAsync(page, "cart");

        var label = $"phone-{language}-{Guid.NewGuid():N}"[..20];
        await page.ClickAsync("[data-testid=cart-order]");
        await page.Locator("[data-testid=order-label] input, input[data-testid=order-label]").First.FillAsync(label);
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-order-dialog");
        await page.ClickAsync("[data-testid=order-confirm]");

        // My orders: the new order as a labelled card, its actions visible; the snackbar covers none of them.
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/orders$"), new() { Timeout = 20_000 });
        var link = page.Locator("[data-testid=order-label-link]", new() { HasText = label });
        await Assertions.Expect(link).ToBeVisibleAsync(Visible);
        var row = page.Locator("[data-testid=orders-table] tbody tr", new() { Has = link });
        await Assertions.Expect(row.Locator("[data-testid=order-actions]")).ToBeVisibleAsync(Visible);
        await Assertions.Expect(row.Locator("td[data-label]").First).ToHaveAttributeAsync("data-label", new System.Text.RegularExpressions.Regex(".+"), new() { Timeout = 20_000 });
        await AssertNotCoveredBySnackbarAsync(page, row.Locator("[data-testid=order-actions]"));
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-orders");
        await AssertNoHorizontalOverflowAsync(page, "my orders");
        var orderId = await CultureBrowserTests.IdOfAsync(page, label);
        await link.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=order-summary]")).ToBeVisibleAsync(Visible);
        await BrowserFixture.ScreenshotAsync(page, $"phone-{language}-order-detail");
        await AssertNoHorizontalOverflowAsync(page, "order detail");

        // Signing out from the menu.
        await PhoneMenuAsync(page, "phone-sign-out");
        await Assertions.Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/orders/"), new() { Timeout = 20_000 });
        await BrowserFixture.GotoInteractiveAsync(page, "/catalog");
        await page.Locator("[data-testid=phone-menu] button").ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=phone-sign-in]")).ToBeVisibleAsync(Visible);

        // The administrator on a phone: admin Orders finds the order; summary, columns and filters reachable.
        var admin = await browser.NewPageAsync();
        await admin.SetViewportSizeAsync(390, 844);
        await BrowserFixture.SignInAsync(admin, DemoUsers.Admin, "Regards!Admin1");
        await admin.GotoAsync($"/culture/set?culture={language}&redirectUri=/");
        await BrowserFixture.GotoInteractiveAsync(admin, "/catalog");
        await admin.Locator("[data-testid=phone-menu] button").ClickAsync();
        await admin.Locator(".mud-popover-open [href='/admin/orders']").ClickAsync();
        await admin.WaitForSelectorAsync("[data-interactive=true]");
        await Assertions.Expect(admin).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin/orders$"), new() { Timeout = 20_000 });
        await Assertions.Expect(admin.Locator("[data-testid=order-label-link]", new() { HasText = label })).ToBeVisibleAsync(Visible);
        foreach (var control in new[] { "admin-summary", "columns-chooser", "admin-filter-apply", "admin-orders-count" })
        {
            await Assertions.Expect(admin.Locator($"[data-testid={control}]")).ToBeVisibleAsync(Visible);
        }
        await BrowserFixture.ScreenshotAsync(admin, $"phone-{language}-admin-orders");
        await AssertNoHorizontalOverflowAsync(admin, "admin orders");
        // The order waits for its user's download: cancelled, it no longer holds the user's preparation slots (other
        // browser tests order as this user).
        var cancelled = await admin.APIRequest.DeleteAsync(new Uri(browser.BaseAddress, $"/api/user/orders/{orderId}").ToString());
        Assert.Equal(200, cancelled.Status);
        await admin.Context.CloseAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Admin_orders_fit_1440_px_with_every_column_shown()
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserFixture.SignInAsync(page, DemoUsers.Admin, "Regards!Admin1");
        var label = await CultureBrowserTests.OrderOnlineObjectAsync(page, "wide");
        await BrowserFixture.GotoInteractiveAsync(page, "/admin/orders");
        await Assertions.Expect(page.Locator("[data-testid=order-label-link]").First).ToBeVisibleAsync(Visible);

        await page.ClickAsync("[data-testid=columns-chooser] button");
        foreach (var column in Regards.Portal.Orders.Components.OrderColumns.Admin)
        {
            var box = page.Locator($"input[data-testid=column-{column}], [data-testid=column-{column}] input").First;
            await Assertions.Expect(box).ToBeAttachedAsync(new() { Timeout = 20_000 });
            if (!await box.IsCheckedAsync())
            {
                await box.ClickAsync();
                await Assertions.Expect(box).ToBeCheckedAsync(new() { Timeout = 20_000 });
            }
        }
        await page.Locator("[data-testid=columns-chooser] button").First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=admin-orders-table] thead th")).ToHaveCountAsync(Regards.Portal.Orders.Components.OrderColumns.Admin.Length + 1, new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("[data-testid=order-label-link]", new() { HasText = label })).ToBeVisibleAsync(Visible);
        await BrowserFixture.ScreenshotAsync(page, "wide-admin-orders-all-columns-1440");
        await AssertNoHorizontalOverflowAsync(page, "admin orders, every column, 1440 px");
        await page.Context.CloseAsync();
    }

    /// <summary>
    /// Two snackbars at once on the order detail page at 390 px (pause, then resume): neither covers the control just
    /// clicked, the files' download buttons, the pager nor the app bar's cart and menu, wherever the user scrolled them
    /// (at the bottom edge of the screen, where bottom snackbars would sit, or in its middle).
    /// </summary>
    [Fact]
    public async Task Two_snackbars_on_the_order_detail_page_cover_no_control_at_390_px()
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        await page.GotoAsync("/culture/set?culture=en&redirectUri=/");
        var label = await CultureBrowserTests.OrderOnlineObjectAsync(page, "snack");
        await BrowserFixture.GotoInteractiveAsync(page, "/orders");
        var orderId = await CultureBrowserTests.IdOfAsync(page, label);
        // Through the link: the detail page opens in the live circuit (a fresh load would be clicked before it is live).
        await page.Locator("[data-testid=order-label-link]", new() { HasText = label }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/orders/{orderId}$"), new() { Timeout = 20_000 });
        await Assertions.Expect(page.Locator("[data-testid=order-files] [data-testid=file-download]").First).ToBeAttachedAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(page.Locator(".mud-table-pagination-actions button").First).ToBeAttachedAsync(new() { Timeout = 20_000 });

        var actions = page.Locator("[data-testid=order-summary] [data-testid=order-actions]");
        await actions.Locator("[data-testid=order-pause]").ClickAsync(new() { Timeout = 30_000 });
        await actions.Locator("[data-testid=order-resume]").ClickAsync(new() { Timeout = 20_000 });
        // Both snackbars are on screen (each stays about 8 s: shown 1 s, visible 5 s, hidden 2 s).
        await page.WaitForFunctionAsync("() => document.querySelectorAll('.mud-snackbar').length >= 2", null, new() { Timeout = 20_000 });

        // One synchronous script: the snackbars cannot leave between the placements it checks.
        var covered = await page.EvaluateAsync<string[]>("""
            () => {
              const snackbars = [...document.querySelectorAll('.mud-snackbar')];
              if (snackbars.length < 2) return [`only ${snackbars.length} snackbar(s) left when checking`];
              const found = [];
              const check = (name, el, placement) => {
                if (placement) el.scrollIntoView({ block: placement, inline: 'nearest' });
                const r = el.getBoundingClientRect();
                if (r.width === 0 || r.height === 0) return; // not displayed (the pager's first/last page buttons)
                const where = `${name} (${placement ?? 'as clicked'}, ${Math.round(r.x)},${Math.round(r.y)} ${Math.round(r.width)}x${Math.round(r.height)})`;
                for (const s of snackbars) {
                  if (getComputedStyle(s).visibility === 'hidden') continue;
                  const b = s.getBoundingClientRect();
                  if (r.left < b.right && b.left < r.right && r.top < b.bottom && b.top < r.bottom)
                    found.push(`${where} overlaps a snackbar at ${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.width)}x${Math.round(b.height)}`);
                }
                const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                // The control, a part of it, or (a disabled control lets pointer events through) its container.
                if (!hit || !(hit === el || el.contains(hit) || hit.contains(el)))
                  found.push(`${where}: its centre shows ${hit ? hit.className || hit.tagName : 'nothing'}`);
              };
              const actions = document.querySelector('[data-testid=order-summary] [data-testid=order-actions]');
              check('the clicked action', actions.querySelector('[data-testid=order-pause]') ?? actions, null);
              for (const name of ['cart-link', 'phone-menu'])
                for (const el of document.querySelectorAll(`[data-testid=${name}]`)) check(name, el.querySelector('button, a') ?? el, null);
              const controls = [
                ...[...document.querySelectorAll('[data-testid=file-download]')].map(el => ['a download button', el]),
                ...[...document.querySelectorAll('.mud-table-pagination-actions button, .mud-table-pagination-select')].map(el => ['the pager', el]),
              ];
              for (const placement of ['end', 'center'])
                for (const [name, el] of controls) check(name, el, placement);
              // The newest message is read whole (an order's label is long; the outcome comes last).
              const message = snackbars.at(-1).querySelector('.mud-snackbar-content-message');
              if (message.scrollHeight > message.clientHeight + 1) found.push(`the newest snackbar is cut: ${message.textContent}`);
              return found;
            }
            """);
        Assert.True(covered.Length == 0, string.Join(Environment.NewLine, covered));
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new() { Path = Path.Combine(BrowserFixture.ScreenshotFolder, "phone-en-order-detail-snackbars.png") });

        // Paused (unless it finished meanwhile), the order can be deleted: it no longer holds the user's preparation slots.
        await page.APIRequest.PutAsync(new Uri(browser.BaseAddress, $"/api/user/orders/pause/{orderId}").ToString());
        var deleted = await page.APIRequest.DeleteAsync(new Uri(browser.BaseAddress, $"/api/user/orders/{orderId}").ToString());
        Assert.True(deleted.Status == 200, await deleted.TextAsync());
        await page.Context.CloseAsync();
    }

    /// <summary>No snackbar lies over the control (the control must stay clickable).</summary>
    internal static async Task AssertNotCoveredBySnackbarAsync(IPage page, ILocator control)
    {
        var box = await control.BoundingBoxAsync();
        Assert.NotNull(box);
        foreach (var snackbar in await page.Locator(".mud-snackbar").AllAsync())
        {
            if (await snackbar.BoundingBoxAsync() is not { } s)
            {
                continue;
            }
            var overlaps = box.X < s.X + s.Width && s.X < box.X + box.Width && box.Y < s.Y + s.Height && s.Y < box.Y + box.Height;
            Assert.False(overlaps, $"a snackbar ({s.X},{s.Y} {s.Width}x{s.Height}) covers the control ({box.X},{box.Y} {box.Width}x{box.Height})");
        }
    }
}
