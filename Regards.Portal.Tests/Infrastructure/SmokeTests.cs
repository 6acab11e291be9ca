using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Regards.Portal.Tests.Infrastructure;

public sealed class SmokeTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public SmokeTests(PortalAppFactory factory) => this.factory = factory;

    [Fact]
    public async Task Health_endpoints_answer_and_ready_checks_the_database()
    {
        var client = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("{\"status\":\"Healthy\",\"checks\":[{\"name\":\"database\",\"status\":\"Healthy\"", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Sqlite_connections_run_in_wal_with_synchronous_normal_and_wait_in_sqlite_for_a_lock()
    {
        factory.CreateAnonymousClient();
        await using var db = factory.CreateDbContext();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", await command.ExecuteScalarAsync());
        command.CommandText = "PRAGMA synchronous;";
        Assert.Equal(1L, await command.ExecuteScalarAsync()); // NORMAL
        command.CommandText = "PRAGMA busy_timeout;";
        Assert.Equal(60_000L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Demo_user_gets_a_bearer_token_and_bad_credentials_get_a_problem_with_code()
    {
        var client = factory.CreateAnonymousClient();
        var token = await PortalAppFactory.LoginAsync(client, DemoUsers.User, "Regards!User1");
        Assert.False(string.IsNullOrWhiteSpace(token));

        var refused = await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.User, password = "wrong" });
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("BAD_CREDENTIALS", problem.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Repeated_failed_sign_ins_pause_that_client_on_that_account()
    {
        var client = factory.CreateAnonymousClient();
        for (var i = 0; i < 5; i++)
        {
            var failed = await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Guest, password = "wrong" });
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }
        // Even the right password is refused from this client while it is paused (the policy: Security/SignInLockoutTests).
        var right = await client.PostAsJsonAsync("/api/identity/login", new { email = DemoUsers.Guest, password = "Regards!Guest1" });
        Assert.Equal(HttpStatusCode.TooManyRequests, right.StatusCode);
        var problem = await right.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("TOO_MANY_ATTEMPTS", problem.GetProperty("code").GetString());
        Assert.True(right.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task Openapi_document_describes_the_api()
    {
        var client = factory.CreateAnonymousClient();
        var doc = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(doc.GetProperty("paths").TryGetProperty("/api/identity/login", out _));
    }

    [Fact]
    public async Task Sign_in_page_renders_localised_in_french_with_the_culture_cookie()
    {
        var client = factory.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/Account/Login");
        request.Headers.Add("Cookie", ".AspNetCore.Culture=c%3Dfr%7Cuic%3Dfr");
        var html = await (await client.SendAsync(request)).Content.ReadAsStringAsync();
        Assert.Contains("Connexion", html);
    }
}
