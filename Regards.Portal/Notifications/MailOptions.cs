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

    /// <summary>The portal's public address for links in e-mails (e.g. https://regards.example.org).</summary>
    [Required, Url] public string PortalBaseUrl { get; set; } = "http://localhost:5080";
}
