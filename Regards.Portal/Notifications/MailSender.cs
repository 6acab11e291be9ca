using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Regards.Portal.Notifications;

/// <summary>Sends a message through SMTP (MailKit) when configured, else drops it as an .eml file in the pickup folder.
/// Throws when it could not: the outbox counts the attempt and retries.</summary>
public sealed class MailSender(IOptions<MailOptions> options, TimeProvider time, ILogger<MailSender> logger)
{
    public async Task SendAsync(MimeMessage message, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrWhiteSpace(settings.SmtpHost))
        {
            Directory.CreateDirectory(settings.PickupFolder);
            var path = Path.Combine(settings.PickupFolder, $"{time.GetUtcNow():yyyyMMddHHmmssfff}-{Guid.NewGuid():N}.eml");
            // Written aside then renamed: a pickup reader never sees half a message, even after a crash.
            var partial = path + ".partial";
            await using (var file = File.Create(partial))
            {
                await message.WriteToAsync(file, cancellationToken);
            }
            File.Move(partial, path);
            logger.LogInformation("Mail \"{Subject}\" to {To} written to {Path}", message.Subject, message.To, path);
            return;
        }
        using var client = new SmtpClient();
        var security = Enum.TryParse<SecureSocketOptions>(settings.Security, ignoreCase: true, out var s) ? s : SecureSocketOptions.Auto;
        await client.ConnectAsync(settings.SmtpHost, settings.SmtpPort, security, cancellationToken);
        if (!string.IsNullOrEmpty(settings.UserName))
        {
            await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
        }
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(true, cancellationToken);
        logger.LogInformation("Mail \"{Subject}\" sent to {To}", message.Subject, message.To);
    }
}
