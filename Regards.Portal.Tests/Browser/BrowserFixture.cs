using Microsoft.Playwright;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Browser;

/// <summary>
/// A real Chromium (Debian's, by executable path: Playwright may not download browsers here) driving the real app
/// on real Kestrel. Missing Chromium fails the test with a clear message: browser tests are never skipped.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Debian's Chromium, or the one REGARDS_CHROMIUM names.</summary>
    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable("REGARDS_CHROMIUM") is { Length: > 0 } configured ? configured : "/usr/bin/chromium";

    private IPlaywright? playwright;

    public IBrowser Browser { get; private set; } = null!;

    public PortalAppFactory App { get; } = new()
    {
        Settings =
        {
            // Nearline orders in small sub-orders that restore quickly: the journey sees staging, waiting and resuming.
            ["Orders:SubOrderMaxFiles"] = "3",
            ["Orders:PollInterval"] = "00:00:00.100",
            ["Storage:NearlineLatencyPerRequest"] = "00:00:00.400",
        },
    };

    public Uri BaseAddress { get; private set; } = null!;

    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        var chromium = ChromiumPath;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"Chromium was not found at {chromium}: run ./.ci/test.sh (it installs Debian's chromium) or set REGARDS_CHROMIUM.");
        }
        BaseAddress = App.StartKestrel();
        playwright = await Playwright.CreateAsync();
        Browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = chromium, Headless = true, Args = ChromiumArgs });
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = 1400, Height = 900 }, AcceptDownloads = true });
        context.SetDefaultTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs in through the real (static SSR) sign-in page.</summary>
    public static async Task SignInAsync(IPage page, string email, string password)
    {
        await page.GotoAsync("/Account/Login");
        await page.FillAsync("[data-testid=login-email]", email);
        await page.FillAsync("[data-testid=login-password]", password);
        await page.ClickAsync("[data-testid=login-submit]");
        // Blazor may follow the redirect in the page (history API): poll the address, a load event may never come.
        await Assertions.Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/Account/Login", System.Text.RegularExpressions.RegexOptions.IgnoreCase), new() { Timeout = 20_000 });
    }

    /// <summary>Navigates and waits until the circuit is interactive (clicks on the prerendered page would be lost).</summary>
    public static async Task GotoInteractiveAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.WaitForSelectorAsync("[data-interactive=true]");
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        playwright?.Dispose();
        App.Dispose();
    }
}

/// <summary>Real-browser journeys wait on a live app: they run alone, after the parallel tests, so timings hold on 2 cores.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
