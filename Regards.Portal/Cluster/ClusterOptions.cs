using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Cluster;

/// <summary>How instances sharing one database hear each other (README "Running several instances").</summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";

    /// <summary>How often an instance writes its own changes to the feed and reads the others'. A change reaches the
    /// other instances' pages, caches and staging jobs within about two of these.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:10")] public TimeSpan ChangePollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>How long feed rows are kept: an instance stopped (not killed) for longer than this misses what happened
    /// meanwhile until its caches' own lifetimes end; a restarted one starts from the newest row.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")] public TimeSpan ChangeRetention { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long a download slot of an instance that stopped renewing it (killed) still counts.</summary>
    [Range(typeof(TimeSpan), "00:00:03", "01:00:00")] public TimeSpan DownloadSlotLease { get; set; } = TimeSpan.FromSeconds(60);
}
