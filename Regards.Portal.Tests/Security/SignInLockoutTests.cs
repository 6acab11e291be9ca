using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Regards.Portal.Tests.Identity;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Security;

/// <summary>
/// Issue 15, L5: the lock-out policy of README "Deploying in production" → "Accounts", with its default limits (5
/// failures per client and account, 20 per client, 10 per account, 15 minutes), on real Kestrel, each client from its
/// own loopback address: an outsider cannot keep an account's owner out.
/// </summary>
public sealed class SignInLockoutTests : IClassFixture<PortalAppFactory>
{
    private readonly PortalAppFactory factory;

    public SignInLockoutTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.StartKestrel();
    }

    [Fact]
    public async Task An_attacker_hammering_the_admin_from_one_client_is_paused_and_the_admin_signs_in_from_theirs()
    {
        using var attacker = factory.ClientFrom("127.0.10.1");
        var answers = new List<LoginAnswer>();
        for (var i = 0; i < 30; i++)
        {
            answers.Add(await attacker.LoginAsync(DemoUsers.Admin, $"Guess!{i:000}"));
        }
        Assert.All(answers.Take(5), a => Assert.Equal(HttpStatusCode.Unauthorized, a.Status));
        Assert.All(answers.Skip(5), a => Assert.Equal(HttpStatusCode.TooManyRequests, a.Status));
        // Paused: even the right password from the attacker's client is not looked at.
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.LoginAsync(DemoUsers.Admin, PortalAppFactory.DemoPassword(DemoUsers.Admin))).Status);

        using var owner = factory.ClientFrom("127.0.10.2");
        Assert.Equal(HttpStatusCode.OK, (await owner.LoginAsync(DemoUsers.Admin, PortalAppFactory.DemoPassword(DemoUsers.Admin))).Status);
        // And on the sign-in page.
        using var ownerBrowser = factory.ClientFrom("127.0.10.3");
        using var page = await ownerBrowser.SignInPageAsync(DemoUsers.Admin, PortalAppFactory.DemoPassword(DemoUsers.Admin));
        Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
    }

    [Fact]
    public async Task Many_attacking_clients_lock_the_account_only_for_clients_that_failed_on_it()
    {
        const string victim = "lockout-victim@regards.local";
        const string password = "Victim!Password1";
        await factory.CreateUserAsync(victim, password);

        // Ten clients, one guess each: below every per-client limit, at the account's limit.
        for (var i = 1; i <= 10; i++)
        {
            using var client = factory.ClientFrom($"127.0.11.{i}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.LoginAsync(victim, $"Guess!{i:000}")).Status);
        }

        // A client that failed on the account: locked out of it, with the answer of a wrong password even for the
        // right one (so a guess teaches nothing while the account is locked).
        using var failed = factory.ClientFrom("127.0.11.1");
        var refused = await failed.LoginAsync(victim, password);
        using var elsewhere = factory.ClientFrom("127.0.11.50");
        var unknown = await elsewhere.LoginAsync("lockout-nobody@regards.local", password);
        Assert.Equal((HttpStatusCode.Unauthorized, "BAD_CREDENTIALS"), (refused.Status, refused.Code));
        Assert.Equal(unknown, refused);

        // The owner's client, which has not failed: the right password opens, the account lock notwithstanding.
        using var owner = factory.ClientFrom("127.0.11.100");
        Assert.Equal(HttpStatusCode.OK, (await owner.LoginAsync(victim, password)).Status);
    }

    [Fact]
    public async Task A_client_failing_on_many_accounts_is_paused_on_every_account()
    {
        const string target = "lockout-spray@regards.local";
        const string password = "Spray!Password1";
        await factory.CreateUserAsync(target, password);
        using var sprayer = factory.ClientFrom("127.0.12.1");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await sprayer.LoginAsync($"spray-{i}@regards.local", "Common!Password1")).Status);
        }

        // The 21st e-mail, real (right password) or not: this client waits, and is told how long.
        var real = await sprayer.LoginAsync(target, password);
        var unknown = await sprayer.LoginAsync("spray-next@regards.local", "Common!Password1");
        Assert.Equal((HttpStatusCode.TooManyRequests, "TOO_MANY_ATTEMPTS"), (real.Status, real.Code));
        Assert.Equal((real.Status, real.Code, real.Detail), (unknown.Status, unknown.Code, unknown.Detail));
        Assert.InRange(int.Parse(real.RetryAfter!), 1, 15 * 60);

        using var other = factory.ClientFrom("127.0.12.2");
        Assert.Equal(HttpStatusCode.OK, (await other.LoginAsync(target, password)).Status);
    }

    [Fact]
    public async Task A_pause_ends_after_its_time_and_a_password_reset_lifts_the_resetting_clients_pause_at_once()
    {
        var clock = new ShiftedClock();
        using var app = new PortalAppFactory { ConfigureTestServices = services => services.AddSingleton<TimeProvider>(clock) };
        app.StartKestrel();
        const string owner = "lockout-clock@regards.local";
        const string password = "Clock!Password1";
        await app.CreateUserAsync(owner, password);

        using var attacker = app.ClientFrom("127.0.13.1");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await attacker.LoginAsync(owner, $"Guess!{i:000}")).Status);
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.LoginAsync(owner, password)).Status);

        // Fourteen minutes later: still paused. Fifteen and a second: the pause is over and the client tries again.
        clock.Shift = TimeSpan.FromMinutes(14);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await attacker.LoginAsync(owner, password)).Status);
        clock.Shift = TimeSpan.FromMinutes(15) + TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.OK, (await attacker.LoginAsync(owner, password)).Status);

        // The owner, paused by their own mistakes, resets the password from that client: the pause is lifted at once.
        using var forgetful = app.ClientFrom("127.0.13.2");
        for (var i = 0; i < 5; i++)
        {
            await forgetful.LoginAsync(owner, $"Forgot!{i:000}");
        }
        Assert.Equal(HttpStatusCode.TooManyRequests, (await forgetful.LoginAsync(owner, password)).Status);
        using (var sent = await forgetful.ForgotPasswordAsync(owner))
        {
            Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        }
        var link = AccountTestKit.LinkIn((await app.MailsToAsync(owner)).Single(m => m.Subject == "[REGARDS] Choose a new password"));
        using (var reset = await forgetful.SubmitAsync(link, "reset-password", new() { ["Input.Password"] = AccountTestKit.NewPassword, ["Input.ConfirmPassword"] = AccountTestKit.NewPassword }))
        {
            Assert.NotNull(AccountTestKit.TestIdText(await reset.Content.ReadAsStringAsync(), "reset-done"));
        }
        Assert.Equal(HttpStatusCode.OK, (await forgetful.LoginAsync(owner, AccountTestKit.NewPassword)).Status);
    }

    /// <summary>The real clock moved forward: the app's timers keep running, its "now" jumps.</summary>
    private sealed class ShiftedClock : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
