using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Downloads;

/// <summary>
/// The downloads feature's configuration (section <c>Downloads</c>), validated at start-up.
/// <see cref="DefaultMaxDownloads"/> and <see cref="DefaultMaxConcurrentDownloads"/> are only defaults an administrator can
/// override on the Order settings page; the quotas read the values in force from <see cref="Admin.PortalSettingsService"/>.
/// The others apply as configured.
/// </summary>
public sealed class DownloadOptions : IValidatableObject
{
    public const string Section = "Downloads";

    /// <summary>Default of the admin setting: completed raw-data downloads allowed to a user without their own quota; -1 = unlimited.</summary>
    [Range(-1, int.MaxValue)] public int DefaultMaxDownloads { get; set; } = -1;

    /// <summary>Default of the admin setting: downloads at the same time for a user without their own limit; -1 = unlimited.</summary>
    [Range(-1, int.MaxValue)] public int DefaultMaxConcurrentDownloads { get; set; } = -1;

    /// <summary>How long a public-token file lookup is reused. Changes evict it at once in this instance and through the
    /// change feed on the others (about 0.5 s); this bounds how long a change can go unseen should the feed be late. At
    /// 2 s, a client fetching a few hundred files looked each one up again every 2 s: a fifth of the CPU of P5.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan FileLookupLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Seconds a client is told to wait before asking again for a file still being staged.</summary>
    [Range(1, 86_400)] public int RetryAfterSeconds { get; set; } = 30;

    /// <summary>"Not ready" answers one caller (user or token owner) gets for one file within <see cref="RetryAfterSeconds"/>;
    /// beyond, 429 + Retry-After until that window ends, with no database work (<see cref="NotReadyThrottle"/>).</summary>
    [Range(1, 10_000)] public int NotReadyRequestLimit { get; set; } = 5;

    /// <summary>Zips one user (the order's owner) may be sent at the same time, per instance; beyond, 429 + Retry-After. -1 = unlimited.</summary>
    [Range(-1, 10_000)] public int MaxConcurrentZipsPerUser { get; set; } = 3;

    /// <summary>Metalinks one user (the order's owner) may be sent at the same time, per instance; beyond, 429 + Retry-After. -1 = unlimited.</summary>
    [Range(-1, 10_000)] public int MaxConcurrentMetalinksPerUser { get; set; } = 5;

    /// <summary>
    /// Bytes per second a client must take of a file, zip or metalink: a client that takes a 64 KB piece of the response
    /// in no more than <see cref="MinResponseDataRateGracePeriod"/> plus 64 KB at this rate keeps its connection, one that
    /// stalls longer is dropped and its slots and quota reservations are released (<see cref="StallWatchdog"/>). 0 = off.
    /// </summary>
    [Range(0, int.MaxValue)] public int MinResponseDataRate { get; set; } = 4096;

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")] public TimeSpan MinResponseDataRateGracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The public address of the portal used in metalinks and e-mails (behind a proxy); empty = from the request.</summary>
    [Url] public string? PublicBaseUrl { get; set; }

    /// <summary>Token lifetime for an order without an expiration date yet (PENDING).</summary>
    [Range(1, 365)] public int TokenDaysWithoutExpiration { get; set; } = 7;

    [Range(4 * 1024, 4 * 1024 * 1024)] public int CopyBufferSize { get; set; } = 256 * 1024;

    /// <summary>The rule an admin's save passes too (<see cref="Admin.PortalSettingsService.Validate"/>): no download at all is not a limit.</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultMaxConcurrentDownloads == 0)
        {
            yield return new ValidationResult("DefaultMaxConcurrentDownloads is -1 (unlimited) or a positive number.", [nameof(DefaultMaxConcurrentDownloads)]);
        }
        if (MaxConcurrentZipsPerUser == 0)
        {
            yield return new ValidationResult("MaxConcurrentZipsPerUser is -1 (unlimited) or a positive number.", [nameof(MaxConcurrentZipsPerUser)]);
        }
        if (MaxConcurrentMetalinksPerUser == 0)
        {
            yield return new ValidationResult("MaxConcurrentMetalinksPerUser is -1 (unlimited) or a positive number.", [nameof(MaxConcurrentMetalinksPerUser)]);
        }
    }
}
