using Regards.Portal.Notifications;
using Regards.Portal.Orders;

namespace Regards.Portal.Admin;

/// <param name="MailsFailing">Queued e-mails whose last attempt failed and that will be tried again.</param>
/// <param name="MailsGivenUp">E-mails given up after their last attempt (kept with their error).</param>
public sealed record OrdersDashboard(
    IReadOnlyList<StatusCount> Statuses, IReadOnlyList<DailyVolume> Days, int SubOrdersStaging, int SubOrdersWaiting, int MailsFailing, int MailsGivenUp);

/// <summary>The figures above the admin Orders list, asked of the features that own them (no query of their tables here).</summary>
public sealed class AdminDashboardService(OrderStatistics orders, MailOutbox mails, TimeProvider time)
{
    public async Task<OrdersDashboard> GetAsync(int days = 14, CancellationToken cancellationToken = default)
    {
        var statuses = await orders.CountByStatusAsync(cancellationToken);
        var today = DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime);
        var volumes = await orders.DailyVolumesAsync(today, days, cancellationToken);
        var load = await orders.SubOrderLoadAsync(cancellationToken);
        // A mail server that refuses everything shows here, not only in the logs.
        var outbox = await mails.GetStatsAsync(cancellationToken);
        return new OrdersDashboard(statuses, volumes, load.Staging, load.WaitingForUser, outbox.Failing, outbox.GivenUp);
    }
}
