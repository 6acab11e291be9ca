using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// The Content Security Policy holds the pages as they really run in Chromium: every page, signed out and as an
/// administrator, loads with no violation and its circuit becomes interactive (a blocked script would leave it static).
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class ContentSecurityPolicyBrowserTests(BrowserFixture browser)
{
    private static readonly string[] InteractivePages = ["/admin/modules", "/admin/settings", "/admin/processing", "/catalog", "/cart", "/orders", "/admin/orders"];

    private readonly List<string> violations = [];

    /// <summary>A page of the context that reports every violation (and any script error) it meets.</summary>
    private async Task<IPage> WatchedPageAsync(IBrowserContext context)
    {
        var page = await context.NewPageAsync();
        page.Console += (_, message) =>
        {
            if (message.Type == "error" || message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (violations) violations.Add($"{page.Url}: {message.Text}");
            }
        };
        // Reported by the page itself as well (an eval, a blocked style or frame may not reach the console).
        await page.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));");
        return page;
    }

    [Fact]
    public async Task Every_page_runs_under_the_policy_with_no_violation()
    {
        var first = await browser.NewPageAsync();
        var context = first.Context;
        var page = await WatchedPageAsync(context);
        await first.CloseAsync();
        foreach (var path in new[] { "/", "/Account/Login", "/Account/Register" })
        {
            var response = await page.GotoAsync(path);
            Assert.Contains("script-src 'self' 'nonce-", await response!.HeaderValueAsync("content-security-policy"));
        }
        await BrowserFixture.SignInAsync(page, DemoUsers.Admin, "Regards!Admin1");
        await page.CloseAsync();
        foreach (var path in InteractivePages)
        {
            // A page per address, as a user opening each in turn: data-interactive is set once the circuit has
            // rendered, so blazor.web.js and MudBlazor ran under the policy.
            var interactive = await WatchedPageAsync(context);
            try
            {
                await BrowserFixture.GotoInteractiveAsync(interactive, path);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"{path} did not become interactive. {string.Join("\n", violations)}");
            }
            await interactive.CloseAsync();
        }
        lock (violations)
        {
            Assert.True(violations.Count == 0, string.Join("\n", violations));
        }
    }
}
