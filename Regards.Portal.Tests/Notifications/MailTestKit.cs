using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using MimeKit;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Notifications;

/// <summary>Reads what the portal really delivered: the .eml files of the pickup folder, and the outbox table.</summary>
internal static partial class MailTestKit
{
    /// <summary>The default pickup folder of a test app (<c>{DataPath}/mail-pickup</c>).</summary>
    public static string PickupFolder(this PortalAppFactory factory) => Path.Combine(factory.DataPath, "mail-pickup");

    /// <summary>Every message delivered to the pickup folder so far (finished files only: .eml, never .partial).</summary>
    public static async Task<IReadOnlyList<MimeMessage>> PickedUpAsync(this PortalAppFactory factory)
    {
        var folder = factory.PickupFolder();
        var messages = new List<MimeMessage>();
        foreach (var path in Directory.Exists(folder) ? Directory.GetFiles(folder, "*.eml") : [])
        {
            messages.Add(await MimeMessage.LoadAsync(path));
        }
        return messages;
    }

    public static async Task<IReadOnlyList<MimeMessage>> PickedUpAsync(this PortalAppFactory factory, string subject) =>
        (await factory.PickedUpAsync()).Where(m => m.Subject == subject).ToList();

    /// <summary>Waits until no message is left to send: everything queued so far was delivered (none given up).</summary>
    public static async Task OutboxDrainedAsync(this PortalAppFactory factory)
    {
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return !await db.OutboxMails.AnyAsync();
        }, 20, "the outbox delivered every queued mail");
    }

    /// <summary>The metalink links of a message's text (public token, 503 for files not ready yet).</summary>
    public static IReadOnlyList<string> MetalinkLinks(MimeMessage message) =>
        MetalinkLink().Matches(message.TextBody ?? "").Select(m => m.Value).ToList();

    /// <summary>The link's path and query, to call on the test host.</summary>
    public static string PathAndQuery(string link) => new Uri(link).PathAndQuery;

    [GeneratedRegex(@"http://localhost:5080/api/user/orders/metalink/download\?orderToken=[^\s&<""]+&notReady=503")]
    private static partial Regex MetalinkLink();

    public static string Created(string label) => $"[REGARDS] Order \"{label}\" created";

    public static string Available(string label) => $"[REGARDS] Files of order \"{label}\" are available";

    public static string ExpiresTomorrow(string label) => $"[REGARDS] Order \"{label}\" expires tomorrow";

    public const string Reminder = "[REGARDS] Files are waiting for you";
}
