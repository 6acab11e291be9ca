using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Options;
using Regards.Portal.Orders;

namespace Regards.Portal.Downloads;

/// <summary>What a valid public token grants: the files of one order of one owner, until it expires.</summary>
public sealed record OrderTokenClaims(long OrderId, string Owner, DateTime ExpiresAt);

/// <summary>
/// Public download tokens (metalink URLs, e-mail links): authenticated encryption by ASP.NET Core Data Protection
/// (keys in the database, so every instance reads every token) of the order id, the owner and the expiry.
/// Scoped to one order: unlike REGARDS, a token never opens another order of the same owner.
/// </summary>
public sealed class OrderTokens(IDataProtectionProvider provider, IOptions<DownloadOptions> options, TimeProvider time)
{
    private const int MaxRemembered = 10_000;

    private readonly IDataProtector protector = provider.CreateProtector("Regards.Portal.Downloads.OrderToken.v1");

    // Tokens already decrypted: a download client sends the same token with every file, and decryption is the
    // dearest part of a small-file GET. Only valid tokens are kept; their expiry is still checked on every read.
    private readonly ConcurrentDictionary<string, OrderTokenClaims> remembered = new(StringComparer.Ordinal);

    /// <summary>A token for the order's metalink and files (e-mails, metalink URLs), valid until the order expires.</summary>
    public string Create(Order order) =>
        Create(order.Id, order.Owner, order.ExpirationDate ?? time.GetUtcNow().UtcDateTime.AddDays(options.Value.TokenDaysWithoutExpiration));

    public string Create(long orderId, string owner, DateTime expiresAt)
    {
        var payload = string.Join('\n', orderId.ToString(CultureInfo.InvariantCulture), owner, expiresAt.Ticks.ToString(CultureInfo.InvariantCulture));
        return protector.Protect(payload);
    }

    /// <summary>Null for a forged, truncated, foreign-key or expired token; no reason is given to the caller.</summary>
    public OrderTokenClaims? Read(string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 4096)
        {
            return null;
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (remembered.TryGetValue(token, out var known))
        {
            return known.ExpiresAt <= now ? null : known;
        }
        string payload;
        try
        {
            payload = protector.Unprotect(token);
        }
        catch (CryptographicException)
        {
            return null;
        }
        catch (FormatException)
        {
            return null;
        }
        var parts = payload.Split('\n');
        if (parts.Length != 3
            || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var orderId)
            || !long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks))
        {
            return null;
        }
        var expiresAt = new DateTime(ticks, DateTimeKind.Utc);
        if (expiresAt <= now)
        {
            return null;
        }
        if (remembered.Count >= MaxRemembered)
        {
            remembered.Clear();
        }
        return remembered[token] = new OrderTokenClaims(orderId, parts[1], expiresAt);
    }
}
