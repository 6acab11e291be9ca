using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Downloads;

public sealed class DownloadOptions
{
    public const string Section = "Downloads";

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
}
