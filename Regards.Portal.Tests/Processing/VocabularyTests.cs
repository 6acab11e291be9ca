using Bunit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using Regards.Portal.Basket;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Processing;
using Regards.Portal.Processing.Components;
using Regards.Portal.Tests.Basket;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Processing;

/// <summary>Raw codes in words, in both languages: data types, file filters, processing parameters and values, roles.</summary>
[Trait("Tier", "Fast")]
public sealed class VocabularyTests(PortalAppFactory factory) : IClassFixture<PortalAppFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private IStringLocalizer<CatalogText> CatalogL => factory.Services.GetRequiredService<IStringLocalizer<CatalogText>>();
    private ProcessingWords Words => factory.Services.GetRequiredService<ProcessingWords>();

    [Theory]
    [InlineData("en", "Raw data", "Quicklook (small)", "Quicklook (large)")]
    [InlineData("fr", "Données brutes", "Aperçu (petit)", "Aperçu (grand)")]
    public Task Data_types_have_names_in_each_language(string language, string raw, string small, string large) =>
        TestCulture.RunAsync(language, () =>
        {
            Assert.Equal(raw, CatalogL.Name(DataType.RawData));
            Assert.Equal(small, CatalogL.Name(DataType.QuicklookSd));
            Assert.Equal(large, CatalogL.Name(DataType.QuicklookHd));
            Assert.All(Enum.GetValues<DataType>(), t => Assert.DoesNotContain(t.ApiName(), CatalogL.Name(t)));
            return Task.CompletedTask;
        });

    [Theory]
    [InlineData("en", "Types: Raw data, Quicklook (medium); File name: .*\\.nc$")]
    [InlineData("fr", "Types : Données brutes, Aperçu (moyen); Nom de fichier : .*\\.nc$")]
    public Task File_filters_read_in_words(string language, string expected) =>
        TestCulture.RunAsync(language, () =>
        {
            Assert.Equal(expected, CatalogL.Describe(new FileFilter { FileTypes = [DataType.RawData, DataType.QuicklookMd], FileNamePattern = @".*\.nc$" }));
            Assert.Null(CatalogL.Describe((FileFilter?)null));
            return Task.CompletedTask;
        });

    [Theory]
    [InlineData("en", "gzip compression (Compression level: Optimal)", "Subset (Unit: Lines, From: 0, To: 10)")]
    [InlineData("fr", "Compression gzip (Niveau de compression : Optimal)", "(Unité : Lignes, De : 0, À : 10)")]
    public Task A_chosen_processing_reads_in_words_not_as_its_code(string language, string compress, string subset) =>
        TestCulture.RunAsync(language, () =>
        {
            var choice = new ProcessingChoice { ProcessBusinessId = "compress", Parameters = new Dictionary<string, string> { ["level"] = "optimal" } };
            Assert.Equal(compress, Words.Describe(choice));
            var lines = Words.Describe(new ProcessingChoice
            {
                ProcessBusinessId = "subset",
                Parameters = new Dictionary<string, string> { ["unit"] = "lines", ["from"] = "0", ["to"] = "10" },
            })!;
            Assert.EndsWith(subset, lines);
            Assert.DoesNotContain("=", lines);
            Assert.Null(Words.Describe(null));
            return Task.CompletedTask;
        });

    [Theory]
    [InlineData("en", "Registered user", "Compression level: Optimal")]
    [InlineData("fr", "Utilisateur inscrit", "Niveau de compression : Optimal")]
    public Task The_admin_processing_page_shows_roles_and_parameters_in_words(string language, string user, string parameter) =>
        TestCulture.RunAsync(language, async () =>
        {
            _ = factory.CreateAnonymousClient();
            await using var ctx = ComponentTestContext.Create(factory, DemoUsers.Admin, PortalRoles.Admin);
            var page = ctx.Render<AdminProcessingPage>();
            page.WaitForAssertion(() => Assert.NotEmpty(page.FindAll("[data-testid=admin-processing-row]")), Wait);
            var markup = page.Markup;
            Assert.Contains(parameter, markup);
            Assert.DoesNotContain("level=optimal", markup);
            Assert.Contains(user, markup);
            Assert.DoesNotContain("REGISTERED_USER", markup);
            // Every cell says what it is on a phone (table cards).
            Assert.All(page.FindAll("[data-testid=admin-processing-row] td"), td => Assert.False(string.IsNullOrEmpty(td.GetAttribute("data-label"))));
        });
}
