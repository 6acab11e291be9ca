using Bunit;
using Regards.Portal.Catalog;
using Regards.Portal.Catalog.Components;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Catalog;

[Trait("Tier", "Fast")]
public sealed class CatalogComponentTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    [Fact]
    public async Task The_catalog_lists_objects_with_server_paging_and_disables_add_with_a_reason_for_metadata_only_data()
    {
        _ = factory.CreateAnonymousClient();
        await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Guest, "REGISTERED_USER");
        var page = ctx.Render<CatalogPage>();
        page.WaitForAssertion(() => Assert.Equal(20, page.FindAll("[data-testid=catalog-table] tbody tr").Count), TimeSpan.FromSeconds(10));

        // Filter on the metadata-only dataset: every add button is disabled and says why.
        page.Find("input[data-testid=catalog-search], [data-testid=catalog-search] input").Input("SPOT5");
        await page.InvokeAsync(() => page.Find("[data-testid=catalog-search-button]").Click());
        page.WaitForAssertion(() =>
        {
            var buttons = page.FindAll("[data-testid=add-to-cart]");
            Assert.NotEmpty(buttons);
            Assert.All(buttons, b => Assert.True(b.HasAttribute("disabled")));
        }, TimeSpan.FromSeconds(10));
        Assert.Contains("20", page.Find("[data-testid=catalog-table] .mud-toolbar").TextContent);
    }

    [Fact]
    public async Task Anonymous_visitors_can_browse_but_never_add()
    {
        _ = factory.CreateAnonymousClient();
        await using var ctx = ComponentTestContext.Create(factory);
        var page = ctx.Render<CatalogPage>();
        page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=add-to-cart]")), TimeSpan.FromSeconds(10));
        Assert.All(page.FindAll("[data-testid=add-to-cart]"), b => Assert.True(b.HasAttribute("disabled")));
        Assert.True(page.Find("[data-testid=add-all-to-cart]").HasAttribute("disabled"));
    }
}
