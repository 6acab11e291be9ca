using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Orders;

public sealed class OrdersOptions
{
    public const string Section = "Orders";

    [Range(1, 100_000)] public int SubOrderDurationHours { get; set; } = 240;
    [Range(1, 100_000)] public int ApplicationSubOrderDurationHours { get; set; } = 2;
    [Range(1, 1_000_000)] public int MaxExpirationHours { get; set; } = 168;
    [Range(1, 1_000_000)] public int SubOrderMaxFiles { get; set; } = 5_000;
    [Range(1, long.MaxValue)] public long SubOrderMaxBytes { get; set; } = 100L * 1024 * 1024;
    [Range(1, 100_000)] public int ExternalSubOrderMaxFiles { get; set; } = 1_000;
    [Range(1, 1_000)] public int MaxActiveSubOrdersPerUser { get; set; } = 2;
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")] public TimeSpan StagingTimeout { get; set; } = TimeSpan.FromHours(2);
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan ExpiryCheckInterval { get; set; } = TimeSpan.FromHours(1);
    [Range(1, 100_000)] public int ReminderDelayHours { get; set; } = 72;

    /// <summary>Local hour (0-23) of the weekday reminder e-mails.</summary>
    [Range(0, 23)] public int ReminderHour { get; set; } = 7;

    /// <summary>How long a claimed job (completion, sub-order staging) belongs to an instance without renewal.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the engine looks for work when nothing woke it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")] public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(100, 1_000_000)] public int CompletionPageSize { get; set; } = 10_000;
    /// <summary>Sub-orders staged at once by one instance (mostly waiting on storage, so more than the cores).</summary>
    [Range(1, 64)] public int MaxParallelStaging { get; set; } = 8;
    [Range(1, 255)] public int LabelMaxLength { get; set; } = 50;

    /// <summary>Run the background engine (completion, staging, expiry). Tests that arrange states by hand turn it off.</summary>
    public bool EngineEnabled { get; set; } = true;
}
