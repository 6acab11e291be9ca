using System.Net;
using System.Text.RegularExpressions;
using MimeKit;

namespace Regards.Portal.Notifications;

/// <summary>The portal's plain mails: paragraphs as text and as HTML, links made clickable.</summary>
public static partial class MailText
{
    public static MimeMessage Compose(string to, string subject, IReadOnlyList<string> lines)
    {
        var message = new MimeMessage { Subject = subject };
        message.To.Add(MailboxAddress.Parse(to));
        var body = new BodyBuilder
        {
            TextBody = string.Join("\r\n\r\n", lines),
            HtmlBody = string.Concat(lines.Select(l => $"<p>{Linkify(WebUtility.HtmlEncode(l))}</p>")),
        };
        message.Body = body.ToMessageBody();
        return message;
    }

    private static string Linkify(string encoded) => Link().Replace(encoded, m => $"<a href=\"{m.Value}\">{m.Value}</a>");

    [GeneratedRegex(@"https?://[^\s<]+")]
    private static partial Regex Link();
}
