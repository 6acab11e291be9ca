using System.ComponentModel.DataAnnotations;

namespace Regards.Portal.Orders;

/// <summary>
/// The orders feature's configuration (section <c>Orders</c>), validated at start-up.
/// <para>
/// Four of these values are only <b>defaults</b> an administrator can override on the Order settings page:
/// <see cref="SubOrderDurationHours"/>, <see cref="ApplicationSubOrderDurationHours"/>, <see cref="MaxExpirationHours"/> and
/// <see cref="ReminderDelayHours"/>. Nothing reads them here: every reader (completion, the reminder sweep, the page) asks
/// <see cref="Admin.PortalSettingsService"/> for the values in force, which are these until an admin saves the page.
/// The others apply as configured.
/// </para>
/// </summary>
public sealed class OrdersOptions : IValidatableObject
{
    public const string Section = "Orders";

    /// <summary>Bounds of the overridable values, configured or saved by an admin (the same rule both ways).</summary>
    public const int MaxDurationHours = 100_000;

    /// <inheritdoc cref="MaxDurationHours"/>
    public const int MaxExpirationLimitHours = 1_000_000;

    /// <summary>Default of the admin setting: hours each internal sub-order adds to an order's life (orders.md §4.5).</summary>
    [Range(1, MaxDurationHours)] public int SubOrderDurationHours { get; set; } = 240;

    /// <summary>Default of the admin setting: the same for an application (machine) order.</summary>
    [Range(1, MaxDurationHours)] public int ApplicationSubOrderDurationHours { get; set; } = 2;

    /// <summary>Default of the admin setting: cap of an order's life at completion.</summary>
    [Range(1, MaxExpirationLimitHours)] public int MaxExpirationHours { get; set; } = 168;

    /// <summary>Default of the admin setting: how long staged files wait for their user before the weekday reminder.</summary>
    [Range(1, MaxDurationHours)] public int ReminderDelayHours { get; set; } = 72;

    [Range(1, 1_000_000)] public int SubOrderMaxFiles { get; set; } = 5_000;
    [Range(1, long.MaxValue)] public long SubOrderMaxBytes { get; set; } = 100L * 1024 * 1024;
    [Range(1, 100_000)] public int ExternalSubOrderMaxFiles { get; set; } = 1_000;
    [Range(1, 1_000)] public int MaxActiveSubOrdersPerUser { get; set; } = 2;
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")] public TimeSpan StagingTimeout { get; set; } = TimeSpan.FromHours(2);
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan ExpiryCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Local hour (0-23) of the weekday reminder e-mails.</summary>
    [Range(0, 23)] public int ReminderHour { get; set; } = 7;

    /// <summary>How long a claimed job (completion, sub-order staging) belongs to an instance without renewal.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")] public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the engine looks for work when nothing woke it.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")] public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Range(100, 1_000_000)] public int CompletionPageSize { get; set; } = 10_000;
    /// <summary>Sub-orders staged at once by one instance (mostly waiting on storage, so more than the cores).</summary>
    [Range(1, 64)] public int MaxParallelStaging { get; set; } = 8;
    /// <summary>At most the Orders.Label column's 50: SQLite stores longer text anyway, a database server refuses it.</summary>
    [Range(1, 50)] public int LabelMaxLength { get; set; } = 50;

    /// <summary>Run the background engine (completion, staging, expiry). Tests that arrange states by hand turn it off.</summary>
    public bool EngineEnabled { get; set; } = true;

    /// <summary>The defaults must pass the rule an admin's save passes (<see cref="Admin.PortalSettingsService.Validate"/>).</summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (MaxExpirationHours < ApplicationSubOrderDurationHours)
        {
            yield return new ValidationResult("MaxExpirationHours cannot be shorter than ApplicationSubOrderDurationHours.",
                [nameof(MaxExpirationHours), nameof(ApplicationSubOrderDurationHours)]);
        }
    }
}
