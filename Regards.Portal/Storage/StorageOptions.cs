using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>Folder of the archived files (Online and Nearline "tape"); default <c>&lt;DataPath&gt;/storage</c>.</summary>
    public string Root { get; set; } = "";

    /// <summary>Folder of the per-order cache (restored nearline files, processing outputs); default <c>&lt;DataPath&gt;/cache</c>.</summary>
    public string CachePath { get; set; } = "";

    /// <summary>Simulated tape latency: once per restore request...</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan NearlineLatencyPerRequest { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>...plus this much per gigabyte restored.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan NearlineLatencyPerGigabyte { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Share of nearline restores that fail (0..1), deterministic per file.</summary>
    [Range(0.0, 1.0)]
    public double NearlineFailureRate { get; set; }
}
