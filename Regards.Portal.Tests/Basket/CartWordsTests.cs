using System.Globalization;
using System.Text;
using Bunit;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Basket.Components;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Basket;

/// <summary>
/// The cart in plain words over the real service and SQLite file: import counts, dated selections described by what
/// they hold, the file-name pattern checked inside its dialog, and the Display datasets setting applied live.
/// </summary>
[Trait("Tier", "Fast")]
public sealed class CartWordsTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private BasketService Baskets => factory.Services.GetRequiredService<BasketService>();

    private async Task<List<(string Id, string ProviderId)>> SentinelObjectsAsync(int count)
    {
        _ = factory.CreateAnonymousClient();
        await using var db = factory.CreateDbContext();
        return db.DataObjects.Where(o => o.DatasetId == CatalogGenerator.SentinelId).OrderBy(o => o.Id).Take(count)
            .Select(o => new { o.Id, o.ProviderId }).AsEnumerable().Select(o => (o.Id, o.ProviderId)).ToList();
    }

    private static MemoryStream Lines(params string[] lines) => new(Encoding.UTF8.GetBytes(string.Join("\n", lines)));

    [Fact]
    public async Task An_import_counts_added_already_present_and_unknown_ids()
    {
        var objects = await SentinelObjectsAsync(3);
        var caller = new Caller(DemoUsers.Guest, false);
        await Baskets.ClearAsync(caller);
        await Baskets.AddSelectionAsync(caller, new SelectionRequest { IncludeIds = [objects[0].Id] });

        var import = await Baskets.ImportProviderIdsAsync(caller,
            Lines(objects[0].ProviderId, objects[1].ProviderId, "", objects[2].ProviderId, "NO_SUCH_ID_1", objects[1].ProviderId, "NO_SUCH_ID_2"));

        Assert.Equal((2, 1, 2), (import.Added, import.AlreadyPresent, import.Unknown));
        Assert.Equal(3, import.Basket!.ObjectsCount);
        // The objects already there make no new dated selection: one for the first add, one for the import.
        Assert.Equal(2, import.Basket.DatasetSelections.Single().ItemsSelections.Count);

        // The same list again: nothing new, no new selection.
        var again = await Baskets.ImportProviderIdsAsync(caller, Lines(objects[1].ProviderId, objects[2].ProviderId, "NO_SUCH_ID_1"));
        Assert.Equal((0, 2, 1), (again.Added, again.AlreadyPresent, again.Unknown));
        Assert.Equal(2, (await Baskets.GetAsync(caller))!.DatasetSelections.Single().ItemsSelections.Count);

        // Only unknown ids: no cart touched.
        var unknown = await Baskets.ImportProviderIdsAsync(caller, Lines("NO_SUCH_ID_1"));
        Assert.Equal((0, 0, 1), (unknown.Added, unknown.AlreadyPresent, unknown.Unknown));
        Assert.Null(unknown.Basket);
    }

    [Theory]
    [InlineData("en", "Import: 1 object added, 1 already in your cart, 2 unknown provider ids.", "Import: 0 objects added, 2 already in your cart, 0 unknown provider ids.")]
    [InlineData("fr", "Import : 1 objet ajouté, 1 déjà dans votre panier, 2 identifiants inconnus.", "Import : 0 objet ajouté, 2 déjà dans votre panier, 0 identifiant inconnu.")]
    public async Task The_cart_page_reports_the_import_counts_and_nothing_new_is_not_green(string language, string first, string second)
    {
        var objects = await SentinelObjectsAsync(2);
        var user = language == "fr" ? DemoUsers.Admin : DemoUsers.Guest;
        var caller = new Caller(user, false);
        await Baskets.ClearAsync(caller);
        await Baskets.AddSelectionAsync(caller, new SelectionRequest { IncludeIds = [objects[0].Id] });
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, user, PortalRoles.RegisteredUser);
            var snackbars = ctx.Render<MudSnackbarProvider>();
            var page = ctx.Render<CartPage>();
            page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);

            page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(
                string.Join("\n", objects[0].ProviderId, objects[1].ProviderId, "NO_SUCH_1", "NO_SUCH_2"), "ids.txt"));
            snackbars.WaitForAssertion(() => Assert.Contains(first, snackbars.Markup), Wait);
            // Unknown ids next to added ones: a warning, not a plain success.
            Assert.Contains("mud-alert-filled-warning", snackbars.Markup);
            page.WaitForAssertion(() => Assert.Equal("2", page.Find("[data-testid=cart-total-objects]").TextContent.Trim()), Wait);

            page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(string.Join("\n", objects[0].ProviderId, objects[1].ProviderId), "ids.txt"));
            snackbars.WaitForAssertion(() => Assert.Contains(second, snackbars.Markup), Wait);
            // Nothing added: neutral feedback, never success green.
            var last = snackbars.FindAll(".mud-snackbar").Last(s => s.TextContent.Contains(second));
            Assert.DoesNotContain("success", last.ClassName);
            Assert.Contains("mud-alert-filled-normal", last.OuterHtml);
        });
    }

    [Theory]
    [InlineData("en", "Search “SRAL_000” · 3 objects", "2 chosen objects", "Whole dataset · ")]
    [InlineData("fr", "Recherche « SRAL_000 » · 3 objets", "2 objets choisis", "Jeu de données entier · ")]
    public async Task Dated_selections_are_described_by_what_they_hold(string language, string search, string chosen, string whole)
    {
        var objects = await SentinelObjectsAsync(2);
        await TestCulture.RunAsync(language, () =>
        {
            static BasketItemSelectionDto Item(SelectionRequest request, int objects) => new(DateTime.UtcNow, request, objects, 0, 0, 0);
            var L = factory.Services.GetRequiredService<Microsoft.Extensions.Localization.IStringLocalizer<CatalogText>>();
            Assert.Equal(search, L.Describe(Item(new SelectionRequest { DatasetId = CatalogGenerator.SentinelId, Q = " SRAL_000 " }, 3)));
            Assert.Equal(chosen, L.Describe(Item(new SelectionRequest { IncludeIds = objects.Select(o => o.Id).ToList() }, 2)));
            Assert.StartsWith(whole, L.Describe(Item(new SelectionRequest { DatasetId = CatalogGenerator.SentinelId }, 500)));
            return Task.CompletedTask;
        });

        // On the page: each dated row carries its description, not only its date.
        var caller = new Caller(DemoUsers.User, false);
        await Baskets.ClearAsync(caller);
        await Baskets.AddSelectionAsync(caller, new SelectionRequest { IncludeIds = objects.Select(o => o.Id).ToList() });
        await Baskets.AddSelectionAsync(caller, new SelectionRequest { DatasetId = CatalogGenerator.SwotId, Q = "SSH_001_00" });
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser);
        var page = ctx.Render<CartPage>();
        page.WaitForAssertion(() => Assert.Equal(2, page.FindAll("[data-testid=cart-selection-description]").Count), Wait);
        var texts = page.FindAll("[data-testid=cart-selection-description]").Select(d => d.TextContent.Trim()).ToList();
        Assert.Contains(texts, t => t.StartsWith("2 chosen objects", StringComparison.Ordinal));
        Assert.Contains(texts, t => t.StartsWith("Search “SSH_001_00”", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_invalid_file_name_pattern_is_reported_inside_the_dialog_which_stays_open()
    {
        _ = factory.CreateAnonymousClient();
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser);
        var provider = ctx.Render<MudDialogProvider>();
        var dialogs = ctx.Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<FileFiltersDialog>("File filters"));
        provider.WaitForElement("[data-testid=file-filters-dialog], [data-testid=file-filter-save]", Wait);
        // The data types in words.
        Assert.Contains("Raw data", provider.Markup);
        Assert.DoesNotContain("RAWDATA", provider.Markup);

        var input = provider.Find("[data-testid=file-filter-pattern] input, input[data-testid=file-filter-pattern]");
        input.Input("([a-z");
        provider.WaitForAssertion(() => Assert.Contains("The file name pattern is not a valid regular expression.", provider.Markup), Wait);
        Assert.True(provider.Find("[data-testid=file-filter-save]").HasAttribute("disabled"));
        Assert.False(reference!.Result.IsCompleted);

        provider.Find("[data-testid=file-filter-pattern] input, input[data-testid=file-filter-pattern]").Input(@".*\.nc$");
        provider.WaitForAssertion(() => Assert.DoesNotContain("not a valid regular expression", provider.Markup), Wait);
        provider.Find("[data-testid=file-filter-save]").Click();
        var result = await reference.Result.WaitAsync(Wait);
        Assert.Equal(@".*\.nc$", Assert.IsType<FileFilter>(result!.Data).FileNamePattern);
    }

    [Fact]
    public async Task Display_datasets_applies_to_an_open_cart_without_a_reload()
    {
        _ = factory.CreateAnonymousClient();
        var modules = factory.Services.GetRequiredService<UiModuleService>();
        var caller = new Caller(DemoUsers.Admin, false);
        await Baskets.ClearAsync(caller);
        await Baskets.AddSelectionAsync(caller, new SelectionRequest { DatasetId = CatalogGenerator.SwotId, Q = "SSH_001_01" });
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Admin, PortalRoles.RegisteredUser);
        var page = ctx.Render<CartPage>();
        page.WaitForAssertion(() => Assert.Equal("true", page.Find("[data-interactive]").GetAttribute("data-interactive")), Wait);
        page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=cart-dataset-row]")), Wait);
        try
        {
            var cart = UiModuleSettings.Default(UiModuleSettings.OrderCart);
            cart.DisplayDatasets = false;
            await modules.SaveAsync(cart, DemoUsers.Admin);
            // The open page follows the setting: a flat list of selections, no dataset row.
            page.WaitForAssertion(() => Assert.Empty(page.FindAll("[data-testid=cart-dataset-row]")), Wait);
            Assert.Contains("SWOT L2 ocean heights", page.Find("[data-testid=cart-item-row]").TextContent);

            await modules.SaveAsync(UiModuleSettings.Default(UiModuleSettings.OrderCart), DemoUsers.Admin);
            page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=cart-dataset-row]")), Wait);
        }
        finally
        {
            await modules.SaveAsync(UiModuleSettings.Default(UiModuleSettings.OrderCart), DemoUsers.Admin);
        }
        // Disposed pages stop listening.
        await ctx.DisposeAsync();
        await modules.SaveAsync(UiModuleSettings.Default(UiModuleSettings.OrderCart), DemoUsers.Admin);
    }
}
