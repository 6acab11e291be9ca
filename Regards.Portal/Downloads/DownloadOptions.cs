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

    /// <summary>How long a public-token file lookup is reused (changes in this instance evict it at once; this bounds
    /// how long another instance's change, e.g. a delete, can go unseen).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan FileLookupLifetime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Seconds a client is told to wait before asking again for a file still being staged.</summary>
    [Range(1, 86_400)] public int RetryAfterSeconds { get; set; } = 30;

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
    }
}
