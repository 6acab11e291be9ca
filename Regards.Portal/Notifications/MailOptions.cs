using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Notifications;

public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>SMTP server; empty = messages are written as .eml files to <see cref="PickupFolder"/>.</summary>
    public string? SmtpHost { get; set; }
    [Range(1, 65535)] public int SmtpPort { get; set; } = 587;

    /// <summary>STARTTLS when the server offers it (Auto), always (StartTls), implicit TLS (SslOnConnect) or None.</summary>
    public string Security { get; set; } = "Auto";
    public string? UserName { get; set; }
    public string? Password { get; set; }

    [Required, EmailAddress] public string From { get; set; } = "regards-portal@regards.local";

    /// <summary>Where messages go without SMTP (default: <c>{DataPath}/mail-pickup</c>).</summary>
    public string PickupFolder { get; set; } = "";

    /// <summary>Attempts at sending one message before it is given up (kept in the outbox, logged as an error).</summary>
    [Range(1, 100)] public int MaxAttempts { get; set; } = 10;

    /// <summary>Wait before the second attempt; it doubles with each failure, at most an hour.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")] public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the outbox looks for due messages when nothing wakes it (a new message does).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")] public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The portal's public address for links in e-mails (e.g. https://regards.example.org).</summary>
    [Required, Url] public string PortalBaseUrl { get; set; } = "http://localhost:5080";
}
