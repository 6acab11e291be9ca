using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Catalog;
using Regards.Portal.Identity;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Identity;

/// <summary>
/// Issue 15: access groups are granted to e-mail addresses, possibly before anyone registers them. Whoever registers
/// such an address first must not get the group: it counts only for the account that has confirmed the address.
/// </summary>
public sealed class AccountGroupsTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public AccountGroupsTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.StartKestrel();
    }

    private async Task<AccessLevel> CalipsoLevelAsync(string email) =>
        (await factory.Services.GetRequiredService<CatalogAccess>().GetLevelsAsync(new Caller(email, IsAdmin: false)))[CatalogGenerator.CalipsoId];

    [Fact]
    public async Task A_group_granted_to_an_address_before_it_registers_counts_only_once_the_account_confirms_it()
    {
        const string email = "future-scientist@regards.local";
        const string password = "Future!Scientist1";
        await using (var db = factory.CreateDbContext())
        {
            // The science team may order CALIPSO, which is closed to everyone else.
            db.UserAccessGroups.Add(new UserAccessGroup { UserEmail = email, GroupName = IdentitySeeder.ScienceTeam });
            await db.SaveChangesAsync();
        }
        Assert.Equal(AccessLevel.None, await CalipsoLevelAsync(email));

        using var browser = factory.ClientFrom("127.0.30.1");
        using (var registered = await browser.RegisterAsync(email, password))
        {
            Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        }
        // Registered, not confirmed: the group does not count, and the account cannot sign in anyway.
        Assert.Equal(AccessLevel.None, await CalipsoLevelAsync(email));
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/catalog/datasets")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.LoginAsync(email, password)).Status);

        await browser.ConfirmAsync(AccountTestKit.LinkIn((await factory.MailsToAsync(email)).First()));

        Assert.Equal(AccessLevel.Full, await CalipsoLevelAsync(email));
        var client = await factory.CreateClientForAsync(email, password);
        Assert.Equal("Full", await CalipsoInApiAsync(client));
    }

    /// <summary>CALIPSO's access level in the caller's catalog, null when the caller does not see it.</summary>
    private static async Task<string?> CalipsoInApiAsync(HttpClient client)
    {
        var datasets = await client.GetFromJsonAsync<JsonElement>("/api/catalog/datasets");
        return datasets.EnumerateArray()
            .Where(d => d.GetProperty("id").GetString() == CatalogGenerator.CalipsoId)
            .Select(d => d.GetProperty("accessLevel").GetString())
            .FirstOrDefault();
    }
}
