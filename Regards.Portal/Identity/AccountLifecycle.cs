using System.Net;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

/// <summary>
/// Registration, e-mail confirmation and password reset. None of them tells whether an address has an account: the
/// forms answer "check your mail" in every case, and the mail says what applies (confirm, already registered, reset).
/// </summary>
public sealed class AccountLifecycle(
    UserManager<ApplicationUser> users,
    IPasswordHasher<ApplicationUser> hasher,
    AccountMailer mailer,
    SignInThrottle throttle,
    ILogger<AccountLifecycle> logger)
{
    /// <summary>
    /// Checks the password and the address's form (the same for any address), then creates the account and mails a
    /// confirmation link, or, when the address already has an account, mails that instead. Returns the errors to show
    /// (about the password or the address's characters, never about its being taken); none means "check your mail".
    /// </summary>
    public async Task<IReadOnlyList<string>> RegisterAsync(string email, string password, IPAddress? client, CancellationToken cancellationToken = default)
    {
        email = email.Trim();
        var candidate = new ApplicationUser { UserName = email, Email = email };
        var errors = new List<string>();
        var allowed = users.Options.User.AllowedUserNameCharacters;
        if (string.IsNullOrEmpty(email) || !string.IsNullOrEmpty(allowed) && email.Any(c => !allowed.Contains(c)))
        {
            errors.Add(users.ErrorDescriber.InvalidUserName(email).Description);
        }
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, candidate, password);
            errors.AddRange(result.Errors.Select(e => e.Description));
        }
        if (errors.Count > 0)
        {
            return errors;
        }

        var normalized = users.NormalizeEmail(email)!;
        if (await users.FindByEmailAsync(email) is { } existing)
        {
            // The same work as a creation (one password hash), and a mail to the owner instead of an error here.
            hasher.HashPassword(candidate, password);
            await mailer.AlreadyRegisteredAsync(client, existing.Email ?? email, normalized, cancellationToken);
            return [];
        }
        var created = await users.CreateAsync(candidate, password);
        if (!created.Succeeded)
        {
            if (created.Errors.Any(e => e.Code is nameof(IdentityErrorDescriber.DuplicateEmail) or nameof(IdentityErrorDescriber.DuplicateUserName)))
            {
                // Registered in between by someone else: the same answer as above.
                await mailer.AlreadyRegisteredAsync(client, email, normalized, cancellationToken);
                return [];
            }
            return created.Errors.Select(e => e.Description).ToList();
        }
        await users.AddToRoleAsync(candidate, PortalRoles.RegisteredUser);
        logger.LogInformation("User {UserId} registered; confirmation mail queued", candidate.Id);
        // A crash before the mail is queued leaves an account without its link: signing in with the password, or
        // "forgot password", sends one.
        await SendConfirmationAsync(candidate, client, cancellationToken);
        return [];
    }

    /// <summary>Mails a new confirmation link (sign-in with the right password on an unconfirmed account).</summary>
    public async Task SendConfirmationAsync(ApplicationUser user, IPAddress? client, CancellationToken cancellationToken = default)
    {
        var token = await users.GenerateEmailConfirmationTokenAsync(user);
        await mailer.ConfirmationAsync(client, user.Email!, user.NormalizedEmail ?? users.NormalizeEmail(user.Email)!, user.Id, Encode(token), cancellationToken);
    }

    /// <summary>Confirms the address of the link's account; false for a wrong, expired or unknown link.</summary>
    public async Task<bool> ConfirmEmailAsync(string? userId, string? code)
    {
        if (string.IsNullOrEmpty(userId) || Decode(code) is not { } token || await users.FindByIdAsync(userId) is not { } user)
        {
            return false;
        }
        var result = await users.ConfirmEmailAsync(user, token);
        if (result.Succeeded)
        {
            logger.LogInformation("User {UserId} confirmed their e-mail address", user.Id);
        }
        return result.Succeeded;
    }

    /// <summary>
    /// "Forgot password": mails a reset link when the address has an account (confirmed or not: the link proves the
    /// mailbox, so using it confirms the address too), nothing otherwise. The caller always answers "check your mail".
    /// </summary>
    public async Task RequestPasswordResetAsync(string email, IPAddress? client, CancellationToken cancellationToken = default)
    {
        email = email.Trim();
        if (email.Length == 0 || await users.FindByEmailAsync(email) is not { } user)
        {
            // Counted as a mail would be: the same quota and the same writes, whether or not the address has an account.
            await mailer.CountWithoutSendingAsync(client, users.NormalizeEmail(email) ?? "", cancellationToken);
            return;
        }
        var token = await users.GeneratePasswordResetTokenAsync(user);
        await mailer.PasswordResetAsync(client, user.Email!, user.NormalizedEmail!, user.Id, Encode(token), cancellationToken);
    }

    /// <summary>Whether a reset link can still be used (to show the form or say it expired).</summary>
    public async Task<bool> IsResetLinkValidAsync(string? userId, string? code)
    {
        if (string.IsNullOrEmpty(userId) || Decode(code) is not { } token || await users.FindByIdAsync(userId) is not { } user)
        {
            return false;
        }
        return await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<ApplicationUser>.ResetPasswordTokenPurpose, token);
    }

    /// <summary>
    /// Sets the new password with a reset link; the link then stops working (the security stamp changes), the address
    /// is confirmed, and this client's failed sign-ins on the account are forgotten. Returns the errors to show.
    /// </summary>
    public async Task<ResetResult> ResetPasswordAsync(string? userId, string? code, string password, IPAddress? client, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(userId) || Decode(code) is not { } token || await users.FindByIdAsync(userId) is not { } user)
        {
            return ResetResult.InvalidLink;
        }
        var result = await users.ResetPasswordAsync(user, token, password);
        if (!result.Succeeded)
        {
            return result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.InvalidToken))
                ? ResetResult.InvalidLink
                : new ResetResult(false, result.Errors.Select(e => e.Description).ToList());
        }
        if (!user.EmailConfirmed)
        {
            user.EmailConfirmed = true;
            await users.UpdateAsync(user);
        }
        await throttle.RecordSuccessAsync(SignInKeys.For(client, user.NormalizedEmail ?? ""), cancellationToken);
        logger.LogInformation("User {UserId} reset their password", user.Id);
        return new ResetResult(true, []);
    }

    private static string Encode(string token) => WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));

    private static string? Decode(string? code)
    {
        if (string.IsNullOrEmpty(code))
        {
            return null;
        }
        try
        {
            return Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(code));
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

/// <param name="LinkInvalid">The link is wrong, used or expired: ask for a new one.</param>
public sealed record ResetResult(bool Succeeded, IReadOnlyList<string> Errors, bool LinkInvalid = false)
{
    public static readonly ResetResult InvalidLink = new(false, [], LinkInvalid: true);
}
