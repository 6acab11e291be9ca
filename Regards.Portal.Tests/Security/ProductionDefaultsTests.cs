using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>A production install that no one can walk into with the README's demo passwords.</summary>
public sealed class ProductionDefaultsTests
{
    private const string SitePassword = "Site-Specific-Secret-42";

    /// <summary>A Production start that seeds the demo data, each demo user with the site's own password.</summary>
    private static PortalAppFactory ProductionWithDemoData()
    {
        var factory = new PortalAppFactory { EnvironmentName = "Production" };
        factory.Settings["Seed:DemoData"] = "true";
        foreach (var email in new[] { DemoUsers.Admin, DemoUsers.User, DemoUsers.Guest })
        {
            factory.Settings[$"Seed:Passwords:{email}"] = SitePassword;
        }
        return factory;
    }

    [Fact]
    public async Task A_fresh_production_install_has_no_demo_user_and_the_documented_admin_password_opens_nothing()
    {
        using var factory = new PortalAppFactory { EnvironmentName = "Production" };
        var client = factory.CreateAnonymousClient();
        var login = await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Admin, password = PortalAppFactory.DemoPassword(DemoUsers.Admin) });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.False(await db.Users.AnyAsync());
        Assert.False(await db.Datasets.AnyAsync());
    }

    [Fact]
    public void Demo_data_asked_for_in_production_without_passwords_stops_the_start_with_the_reason()
    {
        using var factory = new PortalAppFactory { EnvironmentName = "Production" };
        factory.Settings["Seed:DemoData"] = "true";
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateAnonymousClient());
        Assert.Contains("Seed:Passwords:admin@regards.local", error.ToString());
    }

    [Fact]
    public async Task Demo_data_in_production_uses_the_configured_passwords_only()
    {
        using var factory = ProductionWithDemoData();
        var client = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Admin, password = PortalAppFactory.DemoPassword(DemoUsers.Admin) })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Admin, password = SitePassword })).StatusCode);
    }

    [Fact]
    public async Task Every_answer_says_nosniff_and_keeps_its_urls_to_itself()
    {
        using var factory = new PortalAppFactory { EnvironmentName = "Production" };
        var client = factory.CreateAnonymousClient();
        foreach (var path in new[] { "/Account/Login", "/api/user/orders", "/api/orders/public/files/1?orderToken=forged", "/favicon.png", "/no-such-page" })
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.Headers.TryGetValues("X-Content-Type-Options", out var nosniff), path);
            Assert.Equal("nosniff", Assert.Single(nosniff));
            Assert.True(response.Headers.TryGetValues("Referrer-Policy", out var referrer), path);
            Assert.Equal("same-origin", Assert.Single(referrer));
        }
    }

    [Fact]
    public async Task The_api_description_is_for_administrators_in_production_unless_made_public()
    {
        using var factory = ProductionWithDemoData();
        // A browser is sent to the sign-in page; no description either way.
        using var anonymous = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using (var refused = await anonymous.GetAsync("/openapi/v1.json"))
        {
            Assert.True(refused.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Redirect, refused.StatusCode.ToString());
            Assert.DoesNotContain("\"openapi\"", await refused.Content.ReadAsStringAsync());
        }
        using var asUser = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var userToken = await PortalAppFactory.LoginAsync(asUser, DemoUsers.User, SitePassword);
        asUser.DefaultRequestHeaders.Authorization = new("Bearer", userToken);
        using (var forbidden = await asUser.GetAsync("/openapi/v1.json"))
        {
            Assert.False(forbidden.IsSuccessStatusCode, forbidden.StatusCode.ToString());
            Assert.DoesNotContain("\"openapi\"", await forbidden.Content.ReadAsStringAsync());
        }
        using var asAdmin = factory.CreateAnonymousClient();
        asAdmin.DefaultRequestHeaders.Authorization = new("Bearer", await PortalAppFactory.LoginAsync(asAdmin, DemoUsers.Admin, SitePassword));
        Assert.Equal(HttpStatusCode.OK, (await asAdmin.GetAsync("/openapi/v1.json")).StatusCode);

        using var open = new PortalAppFactory { EnvironmentName = "Production" };
        open.Settings["OpenApi:Public"] = "true";
        Assert.Equal(HttpStatusCode.OK, (await open.CreateAnonymousClient().GetAsync("/openapi/v1.json")).StatusCode);
    }
}
