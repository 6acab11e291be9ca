using System.Net;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Data;
using Regards.Portal.Tests.Identity;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>
/// Issue 15, L5: the answers of the sign-in API and page never tell a real account from an unknown one, nor a locked
/// account from either. Each test's clients have their own loopback addresses on real Kestrel.
/// </summary>
public sealed class SignInUniformityTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public SignInUniformityTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.StartKestrel();
    }

    private static object Outside(LoginAnswer a) => (a.Status, a.Code, a.Title, a.Detail, HasRetryAfter: a.RetryAfter is not null);

    [Fact]
    public async Task A_real_account_and_an_unknown_one_get_the_same_answers_failure_after_failure()
    {
        const string real = "uniform-real@regards.local";
        await factory.CreateUserAsync(real, "Uniform!Real1");
        using var toReal = factory.ClientFrom("127.0.1.1");
        using var toNobody = factory.ClientFrom("127.0.1.2");

        var realAnswers = new List<LoginAnswer>();
        var unknownAnswers = new List<LoginAnswer>();
        for (var i = 0; i < 8; i++)
        {
            realAnswers.Add(await toReal.LoginAsync(real, $"Wrong!Password{i}"));
            unknownAnswers.Add(await toNobody.LoginAsync("uniform-nobody@regards.local", $"Wrong!Password{i}"));
        }

        Assert.Equal(unknownAnswers.Select(Outside), realAnswers.Select(Outside));
        // Five failures, then this client waits, on either address.
        Assert.All(realAnswers.Take(5), a => Assert.Equal((HttpStatusCode.Unauthorized, "BAD_CREDENTIALS"), (a.Status, a.Code)));
        Assert.All(realAnswers.Skip(5), a => Assert.Equal((HttpStatusCode.TooManyRequests, "TOO_MANY_ATTEMPTS"), (a.Status, a.Code)));
    }

    [Fact]
    public async Task A_locked_account_answers_as_an_unknown_one_even_to_its_right_password()
    {
        const string locked = "uniform-locked@regards.local";
        const string open = "uniform-open@regards.local";
        var user = await factory.CreateUserAsync(locked, "Uniform!Locked1");
        await factory.CreateUserAsync(open, "Uniform!Open1");
        using (var scope = factory.Services.CreateScope())
        {
            // An administrator's lock (Identity's lockout end), the strongest lock there is.
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.SetLockoutEndDateAsync((await users.FindByIdAsync(user.Id))!, DateTimeOffset.UtcNow.AddYears(10))).Succeeded);
        }

        using var first = factory.ClientFrom("127.0.2.1");
        using var second = factory.ClientFrom("127.0.2.2");
        using var third = factory.ClientFrom("127.0.2.3");
        using var fourth = factory.ClientFrom("127.0.2.4");
        var lockedRight = await first.LoginAsync(locked, "Uniform!Locked1");
        var lockedWrong = await second.LoginAsync(locked, "Wrong!Password1");
        var unknown = await third.LoginAsync("uniform-nobody-2@regards.local", "Uniform!Locked1");
        var wrong = await fourth.LoginAsync(open, "Wrong!Password1");

        Assert.Equal((HttpStatusCode.Unauthorized, "BAD_CREDENTIALS"), (unknown.Status, unknown.Code));
        Assert.Equal(Outside(unknown), Outside(wrong));
        Assert.Equal(Outside(unknown), Outside(lockedWrong));
        Assert.Equal(Outside(unknown), Outside(lockedRight));
    }

    [Fact]
    public async Task The_sign_in_page_says_the_same_for_an_unknown_account_a_wrong_password_and_a_locked_account()
    {
        const string locked = "uniform-page-locked@regards.local";
        const string open = "uniform-page-open@regards.local";
        var user = await factory.CreateUserAsync(locked, "Uniform!Locked2");
        await factory.CreateUserAsync(open, "Uniform!Open2");
        using (var scope = factory.Services.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
            Assert.True((await users.SetLockoutEndDateAsync((await users.FindByIdAsync(user.Id))!, DateTimeOffset.UtcNow.AddYears(10))).Succeeded);
        }

        async Task<(HttpStatusCode, string?, string?)> PageAsync(string address, string email, string password)
        {
            using var client = factory.ClientFrom(address);
            using var response = await client.SignInPageAsync(email, password);
            var html = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, response.Headers.Location?.OriginalString, AccountTestKit.TestIdText(html, "login-error"));
        }

        var unknown = await PageAsync("127.0.3.1", "uniform-page-nobody@regards.local", "Uniform!Locked2");
        var wrong = await PageAsync("127.0.3.2", open, "Wrong!Password1");
        var lockedRight = await PageAsync("127.0.3.3", locked, "Uniform!Locked2");

        Assert.Equal((HttpStatusCode.OK, (string?)null, "Wrong e-mail or password."), unknown);
        Assert.Equal(unknown, wrong);
        Assert.Equal(unknown, lockedRight);
    }
}
