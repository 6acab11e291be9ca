using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

public enum SignInStatus
{
    Succeeded,

    /// <summary>Wrong e-mail or password, for every reason that must not be told apart from outside (unknown account,
    /// wrong password, account locked for this client, account locked by an administrator).</summary>
    Failed,

    /// <summary>This client failed too often, on this e-mail or on any: it waits. Depends on the client's own attempts only.</summary>
    TooManyAttempts,

    /// <summary>The right password for an account whose address is not confirmed yet: a new confirmation link was sent.</summary>
    NotConfirmed,
}

public sealed record SignInAttempt(SignInStatus Status, TimeSpan? RetryAfter = null);

/// <summary>A password hash of nothing: checking a password against it costs what checking a real account's costs.</summary>
public sealed class DummyPasswordHash(IOptions<PasswordHasherOptions> options)
{
    private readonly Lazy<string> hash = new(() =>
        new PasswordHasher<ApplicationUser>(options).HashPassword(new ApplicationUser(), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))));

    public string Value => hash.Value;
}

/// <summary>
/// Sign-in for the page and for <c>POST /api/identity/login</c>. From outside, an unknown account, a wrong password
/// and a locked account get the same answer in the same time: one password hash is checked in every case (a dummy
/// one when there is no account to check), and every failure is counted the same way (<see cref="SignInThrottle"/>).
/// </summary>
public sealed class AccountSignIn(
    UserManager<ApplicationUser> users,
    SignInManager<ApplicationUser> signInManager,
    IPasswordHasher<ApplicationUser> hasher,
    DummyPasswordHash dummy,
    SignInThrottle throttle,
    AccountLifecycle accounts,
    TimeProvider time,
    ILogger<AccountSignIn> logger)
{
    /// <param name="client">The client's address (<c>HttpContext.Connection.RemoteIpAddress</c>).</param>
    /// <param name="bearer">Answer a bearer token (the API) instead of setting the cookie (the page).</param>
    public async Task<SignInAttempt> SignInAsync(string email, string password, IPAddress? client, bool persistent, bool bearer, CancellationToken cancellationToken = default)
    {
        email = email.Trim();
        var normalized = users.NormalizeEmail(email) ?? "";
        var keys = SignInKeys.For(client, normalized);
        var state = await throttle.ReadAsync(keys, cancellationToken);
        if (state.PausedUntil is { } until)
        {
            return new SignInAttempt(SignInStatus.TooManyAttempts, until - time.GetUtcNow().UtcDateTime);
        }

        var user = normalized.Length == 0 ? null : await users.FindByEmailAsync(email);
        var mayTry = user is not null && !state.LockedForThisClient && !await users.IsLockedOutAsync(user);
        bool passwordOk;
        if (mayTry)
        {
            passwordOk = await users.CheckPasswordAsync(user!, password);
        }
        else
        {
            // No account to check, or one this client may not try now: the same work, and a failure.
            hasher.VerifyHashedPassword(new ApplicationUser(), dummy.Value, password);
            passwordOk = false;
        }
        if (!passwordOk)
        {
            await throttle.RecordFailureAsync(keys, cancellationToken);
            return new SignInAttempt(SignInStatus.Failed);
        }

        await throttle.RecordSuccessAsync(keys, cancellationToken);
        if (!await signInManager.CanSignInAsync(user!))
        {
            await accounts.SendConfirmationAsync(user!, client, cancellationToken);
            return new SignInAttempt(SignInStatus.NotConfirmed);
        }
        signInManager.AuthenticationScheme = bearer ? IdentityConstants.BearerScheme : IdentityConstants.ApplicationScheme;
        await signInManager.SignInAsync(user!, persistent);
        logger.LogInformation("User {UserId} signed in", user!.Id);
        return new SignInAttempt(SignInStatus.Succeeded);
    }
}
