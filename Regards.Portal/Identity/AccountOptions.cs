using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Identity;

/// <summary>
/// The sign-in throttle and the account mails (README, "Deploying in production" → "Accounts"). Failures are counted
/// per client and e-mail typed, per client, and per e-mail typed, whether or not an account has that address.
/// </summary>
public sealed class AccountOptions
{
    public const string Section = "Accounts";

    /// <summary>Failures of one client on one e-mail within <see cref="FailureWindow"/> after which that client is paused on that e-mail.</summary>
    [Range(1, 1_000_000)] public int MaxFailuresPerClientAndAccount { get; set; } = 5;

    /// <summary>Failures of one client, whatever the e-mails, within <see cref="FailureWindow"/> after which that client is paused on every e-mail.</summary>
    [Range(1, 1_000_000)] public int MaxFailuresPerClient { get; set; } = 20;

    /// <summary>
    /// Failures on one e-mail, from every client, within <see cref="FailureWindow"/> after which the account is locked for
    /// the clients that failed on it in their current window; a client that has not is never locked out by it.
    /// </summary>
    [Range(1, 1_000_000)] public int MaxFailuresPerAccount { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan FailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a client (or an account lock) stays paused after the failure that reached a limit.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan Pause { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Account mails (confirmation, already registered, password reset) one client may have sent to one address within
    /// <see cref="MailWindow"/>; more are dropped. Counted per client, so that no one can use up an address's mails
    /// and keep its owner from receiving a reset link.
    /// </summary>
    [Range(1, 1000)] public int MaxMailsPerClientAndAddress { get; set; } = 3;

    /// <summary>Account mails one client may have sent, whatever the addresses, within <see cref="MailWindow"/>.</summary>
    [Range(1, 100_000)] public int MaxMailsPerClient { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")] public TimeSpan MailWindow { get; set; } = TimeSpan.FromHours(1);
}
