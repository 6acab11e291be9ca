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

    private const string Operator = "ops@site.test";

    /// <summary>A Production start with its first administrator from configuration (as from a secret store).</summary>
    public static PortalAppFactory Production()
    {
        var factory = new PortalAppFactory { EnvironmentName = "Production" };
        factory.Settings["FirstAdmin:Email"] = Operator;
        factory.Settings["FirstAdmin:Password"] = SitePassword;
        return factory;
    }

    [Fact]
    public async Task A_fresh_production_install_has_no_demo_user_and_the_documented_admin_password_opens_nothing()
    {
        using var factory = Production();
        var client = factory.CreateAnonymousClient();
        var login = await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Admin, password = PortalAppFactory.DemoPassword(DemoUsers.Admin) });
        Assert.Equal(HttpStatusCode.Unauthorized, login.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/identity/login", new { email = Operator, password = SitePassword })).StatusCode);
        await using var db = factory.CreateDbContext();
        Assert.Equal([Operator], await db.Users.Select(u => u.Email!).ToListAsync());
        Assert.False(await db.Datasets.AnyAsync());
    }

    [Fact]
    public void A_production_start_with_no_administrator_stops_and_says_how_to_create_one()
    {
        using var factory = new PortalAppFactory { EnvironmentName = "Production" };
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateAnonymousClient());
        Assert.Contains("admin create --email", error.ToString());
    }

    /// <summary>The real app as a child process on an empty data folder, as an operator installs it.</summary>
    [Fact]
    public async Task An_operator_creates_the_first_administrator_with_the_admin_command_then_the_portal_starts()
    {
        var dataPath = Path.Combine(Path.GetTempPath(), "regards-tests", Guid.NewGuid().ToString("N"));
        var production = new Dictionary<string, string> { ["ASPNETCORE_ENVIRONMENT"] = "Production" };
        try
        {
            var refused = await PortalProcess.RunToEndAsync(dataPath, production, input: null);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains("This portal has no administrator", refused.Output);
            Assert.Contains("admin create --email", refused.Output);

            var noEmail = await PortalProcess.RunToEndAsync(dataPath, production, input: null, "admin", "create");
            Assert.Equal(2, noEmail.ExitCode);

            var created = await PortalProcess.RunToEndAsync(dataPath, production, input: SitePassword, "admin", "create", "--email", Operator, "--password-stdin");
            Assert.True(created.ExitCode == 0, created.Output);
            Assert.Contains($"Administrator {Operator} created", created.Output);
            Assert.DoesNotContain(SitePassword, created.Output);

            var generated = await PortalProcess.RunToEndAsync(dataPath, production, input: null, "admin", "create", "--email", "second@site.test");
            Assert.Equal(0, generated.ExitCode);
            var shown = System.Text.RegularExpressions.Regex.Match(generated.Output, @"Password \(shown once\): (\S+)").Groups[1].Value;
            Assert.Equal(20, shown.Length);
            var again = await PortalProcess.RunToEndAsync(dataPath, production, input: "Another-Secret-42", "admin", "create", "--email", Operator, "--password-stdin");
            Assert.Equal(1, again.ExitCode);
            Assert.Contains("already exists", again.Output);

            await using var portal = await PortalProcess.StartAsync(dataPath, production);
            using var client = portal.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/identity/login", new { email = Operator, password = SitePassword })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/identity/login", new { email = "second@site.test", password = shown })).StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Admin, password = PortalAppFactory.DemoPassword(DemoUsers.Admin) })).StatusCode);
            Assert.Contains(portal.Output, line => line.Contains("stored unencrypted"));
        }
        finally
        {
            try { Directory.Delete(dataPath, recursive: true); } catch (IOException) { }
        }
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
        using var factory = Production();
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

        using var open = Production();
        open.Settings["OpenApi:Public"] = "true";
        Assert.Equal(HttpStatusCode.OK, (await open.CreateAnonymousClient().GetAsync("/openapi/v1.json")).StatusCode);
    }
}
