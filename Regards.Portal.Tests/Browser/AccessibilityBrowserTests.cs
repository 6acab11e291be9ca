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

    /// <summary>
    /// The "NN %" of an order's progress bar is readable whatever the fill behind it: with the bar empty, half and full,
    /// the label is on top at its centre and its text has a WCAG contrast of at least 4.5:1 against what is painted
    /// behind it (the backgrounds of every element under its centre, composited from the page up).
    /// </summary>
    [Fact]
    public async Task The_progress_label_keeps_its_contrast_on_any_fill()
    {
        var page = await browser.NewPageAsync();
        await page.SetViewportSizeAsync(1440, 900);
        await BrowserFixture.SignInAsync(page, DemoUsers.User, "Regards!User1");
        var label = await CultureBrowserTests.OrderOnlineObjectAsync(page, "contrast");
        await BrowserFixture.GotoInteractiveAsync(page, "/orders");
        var progress = page.Locator("[data-testid=orders-table] tbody tr", new() { HasText = label }).Locator("[data-testid=order-progress]");
        await Assertions.Expect(progress.Locator(".portal-progress-label")).ToBeVisibleAsync(new() { Timeout = 20_000 });

        var found = new List<string>();
        foreach (var fill in new[] { 0, 50, 100 })
        {
            var result = await progress.EvaluateAsync<System.Text.Json.JsonElement>("""
                (bar, fill) => {
                  // The bar drawn at this fill, at once (MudBlazor animates its transform).
                  for (const b of bar.querySelectorAll('.mud-progress-linear-bar')) { b.style.transition = 'none'; b.style.transform = `translateX(-${100 - fill}%)`; }
                  const label = bar.querySelector('.portal-progress-label');
                  const rgba = c => { const v = c.match(/[\d.]+/g).map(Number); return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
                  const over = (top, below) => [0, 1, 2].map(k => top[k] * top[3] + below[k] * (1 - top[3]));
                  const luminance = c => { const l = c.map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }); return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2]; };
                  const r = label.getBoundingClientRect();
                  const stack = document.elementsFromPoint(r.left + r.width / 2, r.top + r.height / 2);
                  const at = stack.findIndex(el => el === label || label.contains(el));
                  if (at !== 0) return { ratio: 0, detail: `the label is under ${stack[0].className}` };
                  let behind = [255, 255, 255];
                  for (const el of stack.slice(stack.indexOf(label)).reverse()) behind = over(rgba(getComputedStyle(el).backgroundColor), behind);
                  const text = over(rgba(getComputedStyle(label).color), behind);
                  const [hi, lo] = [luminance(text), luminance(behind)].sort((a, b) => b - a);
                  return { ratio: (hi + 0.05) / (lo + 0.05), detail: `text rgb(${text.map(Math.round)}) on rgb(${behind.map(Math.round)})` };
                }
                """, fill);
            var (ratio, detail) = (result.GetProperty("ratio").GetDouble(), result.GetProperty("detail").GetString());
            if (ratio < 4.5)
            {
                found.Add($"{fill} %: contrast {ratio:0.00}:1, {detail}");
            }
        }
        await BrowserFixture.ScreenshotAsync(page, "progress-label-contrast");
        Assert.True(found.Count == 0, string.Join(Environment.NewLine, found));
        await page.Context.CloseAsync();
    }
}
