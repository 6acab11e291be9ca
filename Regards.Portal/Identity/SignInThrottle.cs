using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;

namespace Regards.Portal.Identity;

/// <summary>The counters one sign-in attempt reads and counts against: the client on that e-mail, the client, the e-mail.</summary>
public sealed record SignInKeys(string Pair, string Client, string Account)
{
    /// <param name="client">The connection's address (after forwarded headers, when the portal is behind a proxy).</param>
    /// <param name="normalizedEmail">The e-mail as typed, normalized (an account need not exist).</param>
    public static SignInKeys For(IPAddress? client, string normalizedEmail)
    {
        var address = ClientAddress(client);
        return new(SignInThrottle.KeyOf("pair", $"{address}|{normalizedEmail}"), SignInThrottle.KeyOf("client", address), SignInThrottle.KeyOf("account", normalizedEmail));
    }

    /// <summary>An IPv4 address as is; an IPv6 address by its /64 prefix (one subscriber usually holds a whole /64).</summary>
    public static string ClientAddress(IPAddress? address)
    {
        if (address is null)
        {
            return "none";
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return $"{new IPAddress(bytes)}/64";
    }
}

/// <param name="PausedUntil">Set when this client may not try this e-mail (or any e-mail) before then.</param>
/// <param name="AccountLocked">Too many failures on this e-mail from all clients: clients that failed on it may not try it.</param>
/// <param name="PairFailed">This client failed on this e-mail in its current window.</param>
public sealed record SignInThrottleState(DateTime? PausedUntil, bool AccountLocked, bool PairFailed)
{
    /// <summary>The account lock applies to this client: its password is not checked (and the answer is a failure).</summary>
    public bool LockedForThisClient => AccountLocked && PairFailed;
}

/// <summary>
/// Counts failed sign-ins in the database (shared by every instance, kept over restarts) and says who is paused. Each
/// count is one conditional update, so parallel attempts are all counted. Counters are kept only as long as they
/// matter, then deleted.
/// </summary>
public sealed class SignInThrottle(IDbContextFactory<PortalDbContext> dbFactory, IOptions<AccountOptions> options, TimeProvider time)
{
    private AccountOptions Settings => options.Value;

    private DateTime Now => time.GetUtcNow().UtcDateTime;

    public static string KeyOf(string kind, string value) =>
        $"{kind}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(value)))}";

    public async Task<SignInThrottleState> ReadAsync(SignInKeys keys, CancellationToken cancellationToken = default)
    {
        var now = Now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.AttemptCounters.AsNoTracking()
            .Where(c => c.Key == keys.Pair || c.Key == keys.Client || c.Key == keys.Account)
            .ToDictionaryAsync(c => c.Key, cancellationToken);
        var pair = rows.GetValueOrDefault(keys.Pair);
        var client = rows.GetValueOrDefault(keys.Client);
        var account = rows.GetValueOrDefault(keys.Account);
        DateTime? paused = new[] { pair?.BlockedUntil, client?.BlockedUntil }.Where(b => b > now).Max();
        var pairFailed = pair is { Count: > 0 } && pair.WindowStartsAt > now - Settings.FailureWindow;
        return new SignInThrottleState(paused, account?.BlockedUntil > now, pairFailed);
    }

    /// <summary>Counts a failed attempt against the three counters (whether or not an account has that e-mail).</summary>
    public async Task RecordFailureAsync(SignInKeys keys, CancellationToken cancellationToken = default)
    {
        var settings = Settings;
        var now = Now;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await CountAsync(db, keys.Pair, settings.MaxFailuresPerClientAndAccount, settings.FailureWindow, settings.Pause, now, cancellationToken);
        await CountAsync(db, keys.Client, settings.MaxFailuresPerClient, settings.FailureWindow, settings.Pause, now, cancellationToken);
        await CountAsync(db, keys.Account, settings.MaxFailuresPerAccount, settings.FailureWindow, settings.Pause, now, cancellationToken);
        // Counters nobody will read again: their window and their pause are over.
        var stale = now - Max(Max(settings.FailureWindow, settings.Pause), settings.MailWindow);
        await db.AttemptCounters.Where(c => c.LastAt < stale).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The right password: this client's failures on this e-mail are forgotten (not the others').</summary>
    public async Task RecordSuccessAsync(SignInKeys keys, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.AttemptCounters.Where(c => c.Key == keys.Pair).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Counts an account mail that this client's request sends to this address; false when the client already had
    /// its share, for this address or in all (the mail is then not sent).
    /// </summary>
    public async Task<bool> TryCountMailAsync(IPAddress? client, string normalizedEmail, CancellationToken cancellationToken = default)
    {
        var settings = Settings;
        var now = Now;
        var address = SignInKeys.ClientAddress(client);
        var pair = KeyOf("mail-pair", $"{address}|{normalizedEmail}");
        var byClient = KeyOf("mail-client", address);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await CountAsync(db, pair, settings.MaxMailsPerClientAndAddress + 1, settings.MailWindow, settings.MailWindow, now, cancellationToken);
        await CountAsync(db, byClient, settings.MaxMailsPerClient + 1, settings.MailWindow, settings.MailWindow, now, cancellationToken);
        var counts = await db.AttemptCounters.AsNoTracking().Where(c => c.Key == pair || c.Key == byClient).ToDictionaryAsync(c => c.Key, c => c.Count, cancellationToken);
        return counts.GetValueOrDefault(pair) <= settings.MaxMailsPerClientAndAddress && counts.GetValueOrDefault(byClient) <= settings.MaxMailsPerClient;
    }

    /// <summary>One more attempt on a key, in one statement (a new window when the last one is over); blocked once the limit is reached.</summary>
    private static async Task CountAsync(PortalDbContext db, string key, int limit, TimeSpan window, TimeSpan pause, DateTime now, CancellationToken cancellationToken)
    {
        var windowOver = now - window;
        DateTime? blockedUntil = now + pause;
        for (var attempt = 0; ; attempt++)
        {
            var updated = await db.AttemptCounters.Where(c => c.Key == key).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.BlockedUntil, c => (c.WindowStartsAt <= windowOver ? 1 : c.Count + 1) >= limit ? blockedUntil : c.BlockedUntil)
                .SetProperty(c => c.Count, c => c.WindowStartsAt <= windowOver ? 1 : c.Count + 1)
                .SetProperty(c => c.WindowStartsAt, c => c.WindowStartsAt <= windowOver ? now : c.WindowStartsAt)
                .SetProperty(c => c.LastAt, now), cancellationToken);
            if (updated > 0)
            {
                return;
            }
            db.AttemptCounters.Add(new AttemptCounter { Key = key, Count = 1, WindowStartsAt = now, LastAt = now, BlockedUntil = limit <= 1 ? blockedUntil : null });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another attempt inserted the row first: count on it.
                db.ChangeTracker.Clear();
            }
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
