namespace Regards.Portal.Identity;

/// <summary>
/// Failed sign-ins (or account mails) counted for one key within a fixed window: a client and an e-mail, a client,
/// an e-mail, or a mail recipient. The key is a hash: no address or typed e-mail is stored in clear.
/// </summary>
public class AttemptCounter
{
    /// <summary><c>{kind}:{SHA-256 of the value, hex}</c>, e.g. <c>pair:…</c>.</summary>
    public required string Key { get; set; }

    /// <summary>Attempts counted since <see cref="WindowStartsAt"/>.</summary>
    public int Count { get; set; }

    /// <summary>The first attempt of the current window; an attempt after the window starts a new one.</summary>
    public DateTime WindowStartsAt { get; set; }

    public DateTime LastAt { get; set; }

    /// <summary>Set when the count reached its limit: paused (or locked) until then.</summary>
    public DateTime? BlockedUntil { get; set; }
}
