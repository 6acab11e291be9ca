using System.Net;
using Microsoft.EntityFrameworkCore;
using Regards.Portal.Tests.Infrastructure;

namespace Regards.Portal.Tests.Identity;

/// <summary>
/// Issue 15, "no account life cycle": registration with e-mail confirmation and password reset, through the pages
/// on real Kestrel, the mails read from the pickup folder the outbox delivers to.
/// </summary>
public sealed class AccountLifecycleTests : IClassFixture<PortalAppFactory>
{
    private const string ConfirmSubject = "[REGARDS] Confirm your e-mail address";
    private const string AlreadySubject = "[REGARDS] You already have an account";
    private const string ResetSubject = "[REGARDS] Choose a new password";

    private readonly PortalAppFactory factory;

    public AccountLifecycleTests(PortalAppFactory factory)
    {
        this.factory = factory;
        factory.StartKestrel();
    }

    [Fact]
    public async Task Registration_mails_a_link_and_the_account_signs_in_once_confirmed_and_not_before()
    {
        const string email = "newcomer@regards.local";
        const string password = "Newcomer!Password1";
        using var browser = factory.ClientFrom("127.0.20.1");

        using (var registered = await browser.RegisterAsync(email, password))
        {
            Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
            Assert.EndsWith("/Account/RegisterConfirmation", registered.Headers.Location?.OriginalString);
        }
        // Registering signs no one in.
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/user/orders")).StatusCode);

        // Not confirmed: the right password is answered so (and sends a new link), by the API and by the page.
        var early = await browser.LoginAsync(email, password);
        Assert.Equal((HttpStatusCode.Forbidden, "EMAIL_NOT_CONFIRMED"), (early.Status, early.Code));
        using (var page = await browser.SignInPageAsync(email, password))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.StartsWith("Your e-mail address is not confirmed yet", AccountTestKit.TestIdText(await page.Content.ReadAsStringAsync(), "login-error"));
        }
        // A wrong password says nothing of the account.
        Assert.Equal("BAD_CREDENTIALS", (await browser.LoginAsync(email, "Wrong!Password1")).Code);

        var mails = await factory.MailsToAsync(email);
        Assert.Equal(3, mails.Count);
        Assert.All(mails, m => Assert.Equal(ConfirmSubject, m.Subject));

        // Opening the link shows a button (a mail scanner opening links confirms nothing); pressing it confirms.
        var link = AccountTestKit.LinkIn(mails[0]);
        Assert.Null(AccountTestKit.TestIdText(await browser.GetStringAsync(link), "confirm-done"));
        Assert.Equal(HttpStatusCode.Forbidden, (await browser.LoginAsync(email, password)).Status);
        var confirmed = await browser.ConfirmAsync(link);
        Assert.NotNull(AccountTestKit.TestIdText(confirmed, "confirm-done"));

        Assert.Equal(HttpStatusCode.OK, (await browser.LoginAsync(email, password)).Status);
        using (var page = await browser.SignInPageAsync(email, password))
        {
            Assert.Equal(HttpStatusCode.Redirect, page.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/user/orders")).StatusCode);
    }

    [Fact]
    public async Task A_forged_or_foreign_confirmation_link_confirms_nothing()
    {
        const string email = "forged-link@regards.local";
        using var browser = factory.ClientFrom("127.0.21.1");
        await browser.RegisterAsync(email, "Forged!Password1");
        var link = AccountTestKit.LinkIn((await factory.MailsToAsync(email)).Single());
        var forged = link[..^4] + (link.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");
        Assert.NotNull(AccountTestKit.TestIdText(await browser.ConfirmAsync(forged), "confirm-error"));
        await using var db = factory.CreateDbContext();
        Assert.False(await db.Users.Where(u => u.Email == email).Select(u => u.EmailConfirmed).SingleAsync());
    }

    [Fact]
    public async Task Registering_a_taken_address_looks_the_same_and_mails_its_owner_instead()
    {
        using var browser = factory.ClientFrom("127.0.22.1");
        using var taken = await browser.RegisterAsync(DemoUsers.Guest.ToUpperInvariant(), "Another!Password1");
        using var free = await browser.RegisterAsync("free-address@regards.local", "Another!Password1");

        Assert.Equal(HttpStatusCode.Redirect, taken.StatusCode);
        Assert.Equal((free.StatusCode, free.Headers.Location), (taken.StatusCode, taken.Headers.Location));

        var toOwner = Assert.Single(await factory.MailsToAsync(DemoUsers.Guest));
        Assert.Equal(AlreadySubject, toOwner.Subject);
        Assert.Contains("http://localhost:5080/Account/ForgotPassword", toOwner.TextBody);
        Assert.Equal(ConfirmSubject, Assert.Single(await factory.MailsToAsync("free-address@regards.local")).Subject);
        // The owner's account is as it was.
        Assert.Equal(HttpStatusCode.OK, (await factory.ClientFrom("127.0.22.2").LoginAsync(DemoUsers.Guest, PortalAppFactory.DemoPassword(DemoUsers.Guest))).Status);

        // A weak password gets the same error whether or not the address is taken.
        using var weakTaken = await browser.RegisterAsync(DemoUsers.Guest, "weakweak");
        using var weakFree = await browser.RegisterAsync("another-free@regards.local", "weakweak");
        var weakTakenError = AccountTestKit.TestIdText(await weakTaken.Content.ReadAsStringAsync(), "register-error");
        Assert.NotNull(weakTakenError);
        Assert.Equal(weakTakenError, AccountTestKit.TestIdText(await weakFree.Content.ReadAsStringAsync(), "register-error"));
    }

    [Fact]
    public async Task Forgot_password_mails_a_link_that_sets_a_new_password_once()
    {
        const string email = "forgetful@regards.local";
        const string oldPassword = "Forgetful!Password1";
        await factory.CreateUserAsync(email, oldPassword);
        using var browser = factory.ClientFrom("127.0.23.1");

        using var known = await browser.ForgotPasswordAsync(email);
        using var unknown = await browser.ForgotPasswordAsync("forgetful-nobody@regards.local");
        Assert.Equal(HttpStatusCode.Redirect, known.StatusCode);
        Assert.Equal(known.Headers.Location, unknown.Headers.Location);
        Assert.Empty(await factory.MailsToAsync("forgetful-nobody@regards.local"));

        var mail = Assert.Single(await factory.MailsToAsync(email));
        Assert.Equal(ResetSubject, mail.Subject);
        var link = AccountTestKit.LinkIn(mail);
        var fields = new Dictionary<string, string> { ["Input.Password"] = AccountTestKit.NewPassword, ["Input.ConfirmPassword"] = AccountTestKit.NewPassword };
        using (var reset = await browser.SubmitAsync(link, "reset-password", fields))
        {
            Assert.NotNull(AccountTestKit.TestIdText(await reset.Content.ReadAsStringAsync(), "reset-done"));
        }

        Assert.Equal(HttpStatusCode.OK, (await browser.LoginAsync(email, AccountTestKit.NewPassword)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.LoginAsync(email, oldPassword)).Status);
        // The link worked once.
        Assert.NotNull(AccountTestKit.TestIdText(await browser.GetStringAsync(link), "reset-link-invalid"));
    }

    [Fact]
    public async Task Someone_who_registered_another_persons_address_loses_it_when_its_owner_resets_the_password()
    {
        const string address = "claimed@regards.local";
        using var squatter = factory.ClientFrom("127.0.24.1");
        await squatter.RegisterAsync(address, "Squatter!Password1");
        // The squatter cannot confirm (the link goes to the owner's mailbox) and so cannot sign in.
        Assert.Equal(HttpStatusCode.Forbidden, (await squatter.LoginAsync(address, "Squatter!Password1")).Status);

        // The owner registers: "check your mail"; the mail says the address has an account and how to reset.
        using var owner = factory.ClientFrom("127.0.24.2");
        using (var again = await owner.RegisterAsync(address, "Owner!Password1"))
        {
            Assert.EndsWith("/Account/RegisterConfirmation", again.Headers.Location?.OriginalString);
        }
        using (await owner.ForgotPasswordAsync(address))
        {
        }
        var mails = await factory.MailsToAsync(address);
        Assert.Contains(mails, m => m.Subject == AlreadySubject);
        var link = AccountTestKit.LinkIn(mails.Single(m => m.Subject == ResetSubject));
        using (var reset = await owner.SubmitAsync(link, "reset-password", new() { ["Input.Password"] = "Owner!Password1", ["Input.ConfirmPassword"] = "Owner!Password1" }))
        {
            Assert.NotNull(AccountTestKit.TestIdText(await reset.Content.ReadAsStringAsync(), "reset-done"));
        }

        // The link proved the mailbox: the account is confirmed, with the owner's password only.
        Assert.Equal(HttpStatusCode.OK, (await owner.LoginAsync(address, "Owner!Password1")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await squatter.LoginAsync(address, "Squatter!Password1")).Status);
    }

    [Fact]
    public async Task A_client_gets_at_most_three_account_mails_an_hour_sent_to_an_address_and_cannot_use_up_the_owners()
    {
        const string email = "flooded@regards.local";
        await factory.CreateUserAsync(email, "Flooded!Password1");
        using var flooder = factory.ClientFrom("127.0.25.1");
        for (var i = 0; i < 6; i++)
        {
            using var sent = await flooder.ForgotPasswordAsync(email);
            Assert.Equal(HttpStatusCode.Redirect, sent.StatusCode);
        }
        Assert.Equal(3, (await factory.MailsToAsync(email)).Count);

        // The owner, from their own client, still gets their reset link.
        using var owner = factory.ClientFrom("127.0.25.2");
        using (await owner.ForgotPasswordAsync(email))
        {
        }
        Assert.Equal(4, (await factory.MailsToAsync(email)).Count);
    }

    [Fact]
    public async Task The_account_pages_and_mails_speak_french_to_a_french_browser()
    {
        const string email = "francophone@regards.local";
        using var browser = factory.ClientFrom("127.0.26.1", culture: "fr");
        Assert.Contains("Indiquez l'adresse e-mail de votre compte", await browser.PageTextAsync("/Account/ForgotPassword"));
        Assert.Contains("Mot de passe oublié ?", await browser.PageTextAsync("/Account/Login"));
        using (await browser.RegisterAsync(email, "Francophone!Password1"))
        {
        }
        var mail = Assert.Single(await factory.MailsToAsync(email));
        Assert.Equal("[REGARDS] Confirmez votre adresse e-mail", mail.Subject);
        Assert.Contains("Confirmez que cette adresse est la vôtre", await browser.PageTextAsync(AccountTestKit.LinkIn(mail)));
    }
}
