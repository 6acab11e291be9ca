using System.Globalization;
using Bunit;
using Regards.Portal.Identity;
using Regards.Portal.Infrastructure;
using Regards.Portal.Orders;
using Regards.Portal.Orders.Components;
using Regards.Portal.Tests.Orders;

namespace Regards.Portal.Tests.Infrastructure;

/// <summary>Plural rules, sizes with the language's units and MudBlazor's own texts, on the real pages (bUnit).</summary>
[Trait("Tier", "Fast")]
public sealed class WordingTests(OrderPagesFactory factory) : IClassFixture<OrderPagesFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("en", 0, "other")]
    [InlineData("en", 1, "one")]
    [InlineData("en", 2, "other")]
    [InlineData("fr", 0, "one")]
    [InlineData("fr", 1, "one")]
    [InlineData("fr", 2, "other")]
    [InlineData("fr", 1000, "other")]
    public void Plural_categories_follow_the_cldr_rules_of_each_language(string language, long count, string expected) =>
        Assert.Equal(expected, PluralText.Category(count, new CultureInfo(language)));

    [Theory]
    [InlineData("en", 512, "512\u00a0B")]
    [InlineData("en", 1536, "1.5\u00a0KB")]
    [InlineData("en", 5L * 1024 * 1024, "5\u00a0MB")]
    [InlineData("fr", 512, "512\u00a0o")]
    [InlineData("fr", 1536, "1,5\u00a0Ko")]
    [InlineData("fr", 5L * 1024 * 1024, "5\u00a0Mo")]
    [InlineData("fr", 3L * 1024 * 1024 * 1024, "3\u00a0Go")]
    public void Sizes_use_the_units_and_the_decimal_mark_of_the_language(string language, long bytes, string expected) =>
        InCulture(language, () => Assert.Equal(expected, UiFormat.Bytes(bytes)));

    [Theory]
    [InlineData("en", 1, "You have 1 order", "1 object – 1 file")]
    [InlineData("en", 2, "You have 2 orders", "2 objects – 2 files")]
    [InlineData("fr", 1, "Vous avez 1 commande", "1 objet – 1 fichier")]
    [InlineData("fr", 2, "Vous avez 2 commandes", "2 objets – 2 fichiers")]
    public async Task My_orders_counts_with_the_plural_rule_of_the_language(string language, int count, string header, string objects)
    {
        var owner = OrderPagesFactory.NewOwner();
        for (var i = 0; i < count; i++)
        {
            await factory.SeedOrderAsync(owner, OrderStatus.Done, o => (o.ObjectsCount, o.FilesCount) = (count, count));
        }
        await TestCulture.RunAsync(language, async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForAssertion(() => Assert.Equal(count, page.FindAll("[data-testid=order-actions]").Count), Wait);
            page.Render();
            page.WaitForAssertion(() => Assert.Equal(header, page.Find("[data-testid=orders-count]").TextContent.Trim()), Wait);
            page.FindAll("[data-testid=order-objects]").ToList().ForEach(cell => Assert.Equal(objects, cell.TextContent.Trim()));
        });
    }

    [Fact]
    public async Task In_french_the_pager_and_mudblazors_own_texts_are_french()
    {
        var owner = OrderPagesFactory.NewOwner();
        await factory.SeedOrderAsync(owner, OrderStatus.Done, o => o.TotalSize = 1536);
        await TestCulture.RunAsync("fr", async () =>
        {
            await using var ctx = ComponentTestContext.Create(factory, owner, PortalRoles.RegisteredUser);
            var page = ctx.Render<MyOrdersPage>();
            page.WaitForElement("[data-testid=order-actions]", Wait);
            var text = page.Find(".mud-table-pagination").TextContent;
            Assert.Contains("Lignes par page", text);
            Assert.Contains("1–1 sur 1", text);
            Assert.DoesNotContain("Rows per page", page.Markup);
            // MudBlazor's own key (the pager's buttons): through PortalMudLocalizer.
            Assert.Contains(page.FindAll(".mud-table-pagination button"), b => b.GetAttribute("aria-label") == "Page suivante");
            Assert.Contains("1,5\u00a0Ko", page.Markup);
        });
    }

    private static void InCulture(string language, Action action) =>
        TestCulture.RunAsync(language, () => { action(); return Task.CompletedTask; }).GetAwaiter().GetResult();
}
