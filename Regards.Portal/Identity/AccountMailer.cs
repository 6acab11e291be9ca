using System.Net;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;
using Regards.Portal.Components.Account;
using Regards.Portal.Notifications;

namespace Regards.Portal.Identity;

/// <summary>
/// The account mails (confirm the address, already registered, reset the password), in the language of the page that
/// asked for them, queued in the mail outbox. One client gets at most <see cref="AccountOptions.MaxMailsPerClientAndAddress"/>
/// of them sent to an address per <see cref="AccountOptions.MailWindow"/>: the forms cannot be used to flood a mailbox.
/// </summary>
public sealed class AccountMailer(
    MailOutbox outbox,
    SignInThrottle throttle,
    IOptions<MailOptions> mailOptions,
    IStringLocalizer<AccountText> text,
    ILogger<AccountMailer> logger)
{
    private string BaseUrl => mailOptions.Value.PortalBaseUrl.TrimEnd('/');

    public static string ConfirmPath(string userId, string code) =>
        $"/Account/ConfirmEmail?userId={Uri.EscapeDataString(userId)}&code={Uri.EscapeDataString(code)}";

    public static string ResetPath(string userId, string code) =>
        $"/Account/ResetPassword?userId={Uri.EscapeDataString(userId)}&code={Uri.EscapeDataString(code)}";

    public Task ConfirmationAsync(IPAddress? client, string email, string normalizedEmail, string userId, string code, CancellationToken cancellationToken = default) =>
        SendAsync(client, email, normalizedEmail, text["MailConfirmSubject"],
        [
            text["MailConfirmIntro"],
            string.Format(text["MailConfirmLink"], BaseUrl + ConfirmPath(userId, code)),
            text["MailNotYou"],
        ], cancellationToken);

    public Task AlreadyRegisteredAsync(IPAddress? client, string email, string normalizedEmail, CancellationToken cancellationToken = default) =>
        SendAsync(client, email, normalizedEmail, text["MailAlreadySubject"],
        [
            text["MailAlreadyIntro"],
            string.Format(text["MailAlreadySignIn"], $"{BaseUrl}/Account/Login"),
            string.Format(text["MailAlreadyForgot"], $"{BaseUrl}/Account/ForgotPassword"),
            text["MailNotYou"],
        ], cancellationToken);

    public Task PasswordResetAsync(IPAddress? client, string email, string normalizedEmail, string userId, string code, CancellationToken cancellationToken = default) =>
        SendAsync(client, email, normalizedEmail, text["MailResetSubject"],
        [
            string.Format(text["MailResetLink"], BaseUrl + ResetPath(userId, code)),
            text["MailResetNotYou"],
        ], cancellationToken);

    /// <summary>Counts against the quotas what a mail to this address would, and sends nothing (an address without an account).</summary>
    public Task CountWithoutSendingAsync(IPAddress? client, string normalizedEmail, CancellationToken cancellationToken = default) =>
        throttle.TryCountMailAsync(client, normalizedEmail, cancellationToken);

    private async Task SendAsync(IPAddress? client, string email, string normalizedEmail, string subject, IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        if (!await throttle.TryCountMailAsync(client, normalizedEmail, cancellationToken))
        {
            logger.LogWarning("Account mail \"{Subject}\" not sent: this client had its share of account mails for now", subject);
            return;
        }
        await outbox.EnqueueAsync(MailText.Compose(email, subject, lines), cancellationToken);
    }
}
