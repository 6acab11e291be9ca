using System.Globalization;
using Bunit;
using Microsoft.Extensions.DependencyInjection;
using MudBlazor;
using Regards.Portal.Basket;
using Regards.Portal.Basket.Components;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Processing;
using Regards.Portal.Processing.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Processing;

/// <summary>The Process dialog and the cart's Process button over the real catalogue and basket service.</summary>
[Trait("Tier", "Fast")]
public sealed class ProcessDialogComponentTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private BasketService Baskets => factory.Services.GetRequiredService<BasketService>();

    private BunitContext Context(string user)
    {
        _ = factory.CreateAnonymousClient();
        return ComponentTestContext.Create(factory, user, PortalRoles.RegisteredUser);
    }

    private async Task<(IRenderedComponent<MudDialogProvider> Provider, Task<DialogResult?> Result)> ShowAsync(BunitContext ctx, ProcessingChoice? current)
    {
        var provider = ctx.Render<MudDialogProvider>();
        var processings = await factory.Services.GetRequiredService<ProcessingCatalog>().ListAsync(new Caller(DemoUsers.User, false));
        var dialogs = ctx.Services.GetRequiredService<IDialogService>();
        IDialogReference? reference = null;
        await provider.InvokeAsync(async () => reference = await dialogs.ShowAsync<ProcessDialog>("Process", new DialogParameters<ProcessDialog>
        {
            { x => x.Processings, processings },
            { x => x.Current, current },
        }));
        return (provider, reference!.Result);
    }

    [Fact]
    public async Task Parameters_are_validated_as_typed_and_save_returns_the_choice()
    {
        await using var ctx = Context(DemoUsers.User);
        var current = new ProcessingChoice { ProcessBusinessId = "subset", Parameters = new Dictionary<string, string> { ["unit"] = "bytes", ["from"] = "5", ["to"] = "10" } };
        var (provider, result) = await ShowAsync(ctx, current);

        provider.WaitForAssertion(() => provider.Find("[data-testid=process-description]"));
        Assert.Contains("1\u00a0GB", provider.Find("[data-testid=process-limits]").TextContent, StringComparison.OrdinalIgnoreCase);
        var to = provider.Find("input[data-testid=process-param-to], [data-testid=process-param-to] input");
        Assert.Equal("10", to.GetAttribute("value"));

        to.Input("abc");
        provider.WaitForAssertion(() => Assert.Contains("To must be an integer.", provider.Markup));
        Assert.True(provider.Find("[data-testid=process-save]").HasAttribute("disabled"));
        provider.Find("input[data-testid=process-param-from], [data-testid=process-param-from] input").Input("-3");
        provider.WaitForAssertion(() => Assert.Contains("From must be between 0 – +∞.", provider.Markup));

        provider.Find("input[data-testid=process-param-from], [data-testid=process-param-from] input").Input("0");
        provider.Find("input[data-testid=process-param-to], [data-testid=process-param-to] input").Input(" 50 ");
        provider.WaitForAssertion(() => Assert.False(provider.Find("[data-testid=process-save]").HasAttribute("disabled")));
        provider.Find("[data-testid=process-save]").Click();

        var closed = await result.WaitAsync(TimeSpan.FromSeconds(5));
        var choice = Assert.IsType<ProcessDialog.Result>(closed!.Data).Choice!;
        Assert.Equal("subset", choice.ProcessBusinessId);
        Assert.Equal(new Dictionary<string, string> { ["unit"] = "bytes", ["from"] = "0", ["to"] = "50" }, choice.Parameters);
    }

    [Fact]
    public async Task Remove_is_offered_only_for_an_existing_processing_and_cancel_returns_nothing()
    {
        await using var ctx = Context(DemoUsers.User);
        var (provider, result) = await ShowAsync(ctx, null);
        provider.WaitForAssertion(() => provider.Find("[data-testid=process-save]"));
        Assert.Empty(provider.FindAll("[data-testid=process-remove]"));
        provider.Find("[data-testid=process-cancel]").Click();
        Assert.True((await result.WaitAsync(TimeSpan.FromSeconds(5)))!.Canceled);

        var (again, removed) = await ShowAsync(ctx, new ProcessingChoice { ProcessBusinessId = "compress" });
        again.WaitForElement("[data-testid=process-remove]").Click();
        Assert.Null(Assert.IsType<ProcessDialog.Result>((await removed.WaitAsync(TimeSpan.FromSeconds(5)))!.Data).Choice);
    }

    [Fact]
    public async Task The_cart_process_button_stores_the_choice_and_shows_refusals_localised()
    {
        var caller = new Caller(DemoUsers.Guest, false);
        await Baskets.ClearAsync(caller);
        var basket = await Baskets.AddSelectionAsync(caller, new SelectionRequest { DatasetId = CatalogGenerator.SwotId, Q = "SSH_001_00" });
        var selectionId = basket!.DatasetSelections[0].Id;
        var culture = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("fr-FR");
        try
        {
            await using var ctx = Context(DemoUsers.Guest);
            var provider = ctx.Render<MudDialogProvider>();
            var snackbars = ctx.Render<MudSnackbarProvider>();
            var page = ctx.Render<CartPage>();

            // First choice of the list (checksum-manifest), saved with its default parameters.
            page.WaitForElement("[data-testid=cart-process]").Click();
            provider.WaitForAssertion(() => Assert.Contains("Manifeste de sommes de contrôle", provider.Markup));
            provider.Find("[data-testid=process-save]").Click();
            page.WaitForAssertion(() => Assert.Contains("Manifeste de sommes de contrôle (Format : Fichier sha256sum)", page.Markup), TimeSpan.FromSeconds(5));
            Assert.Equal("checksum-manifest", (await Baskets.GetAsync(caller))!.DatasetSelections[0].Processing!.ProcessBusinessId);
            snackbars.WaitForAssertion(() => Assert.Contains("Traitement enregistré.", snackbars.Markup));

            // A refusal of the service (file filters set meanwhile) comes back as the localised message; nothing changes.
            await Baskets.UpdateProcessingAsync(caller, selectionId, null);
            await Baskets.UpdateFileFiltersAsync(caller, selectionId, new FileFilter { FileTypes = [DataType.RawData] });
            page.WaitForElement("[data-testid=cart-process]").Click();
            provider.WaitForElement("[data-testid=process-save]").Click();
            snackbars.WaitForAssertion(() => Assert.Contains("Supprimez les filtres de fichiers", snackbars.Markup));
            Assert.Null((await Baskets.GetAsync(caller))!.DatasetSelections[0].Processing);
        }
        finally
        {
            CultureInfo.CurrentUICulture = culture;
        }
    }
}
