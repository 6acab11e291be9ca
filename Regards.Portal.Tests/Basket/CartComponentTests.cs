using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Admin;
using Regards.Portal.Basket;
using Regards.Portal.Basket.Components;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Basket;

[Trait("Tier", "Fast")]
public sealed class CartComponentTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private BasketService Baskets => factory.Services.GetRequiredService<BasketService>();

    [Fact]
    public async Task Anonymous_visitors_are_asked_to_sign_in()
    {
        _ = factory.CreateAnonymousClient();
        await using var ctx = ComponentTestContext.Create(factory);
        var page = ctx.Render<CartPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=cart-sign-in]"));
    }

    [Fact]
    public async Task The_cart_groups_by_dataset_flags_duplicates_and_follows_changes_live()
    {
        _ = factory.CreateAnonymousClient();
        var caller = new Caller(DemoUsers.User, false);
        await Baskets.ClearAsync(caller);
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.User, PortalRoles.RegisteredUser);
        var page = ctx.Render<CartPage>();
        page.WaitForAssertion(() => page.Find("[data-testid=cart-empty]"));

        await using (var db = factory.CreateDbContext())
        {
            var ids = db.DataObjects.Where(o => o.DatasetId == CatalogGenerator.SentinelId).OrderBy(o => o.Id).Select(o => o.Id).Take(4).ToList();
            await Baskets.AddSelectionAsync(caller, new SelectionRequest { IncludeIds = ids.Take(3).ToList() });
            await Baskets.AddSelectionAsync(caller, new SelectionRequest { IncludeIds = ids.Skip(2).ToList() });
        }
        // The page subscribed to cart changes: it shows them without a reload.
        page.WaitForAssertion(() => Assert.Equal("4", page.Find("[data-testid=cart-total-objects]").TextContent), TimeSpan.FromSeconds(5));
        Assert.Single(page.FindAll("[data-testid=cart-dataset-row]"));
        Assert.Equal(2, page.FindAll("[data-testid=cart-item-row]").Count);
        page.Find("[data-testid=cart-duplicates-info]");
    }

    [Fact]
    public async Task With_display_datasets_off_the_cart_is_a_flat_list_of_selections()
    {
        _ = factory.CreateAnonymousClient();
        var modules = factory.Services.GetRequiredService<UiModuleService>();
        var cart = UiModuleSettings.Default(UiModuleSettings.OrderCart);
        cart.DisplayDatasets = false;
        await modules.SaveAsync(cart, DemoUsers.Admin);
        try
        {
            var caller = new Caller(DemoUsers.Guest, false);
            await Baskets.ClearAsync(caller);
            await Baskets.AddSelectionAsync(caller, new SelectionRequest { DatasetId = CatalogGenerator.SwotId });
            await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Guest, PortalRoles.RegisteredUser);
            var page = ctx.Render<CartPage>();
            page.WaitForAssertion(() => Assert.Single(page.FindAll("[data-testid=cart-item-row]")));
            Assert.Empty(page.FindAll("[data-testid=cart-dataset-row]"));
            Assert.Contains("SWOT L2 ocean heights", page.Find("[data-testid=cart-item-row]").TextContent);
        }
        finally
        {
            await modules.SaveAsync(UiModuleSettings.Default(UiModuleSettings.OrderCart), DemoUsers.Admin);
        }
    }
}
