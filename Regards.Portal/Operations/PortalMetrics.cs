using System.Diagnostics.Metrics;
using Regards.Portal.Catalog;

namespace Regards.Portal.Operations;

/// <summary>How a download left the portal.</summary>
public enum DownloadKind
{
    Zip,
    File,
    Metalink,
}

/// <summary>
/// The portal's own instruments (meter <c>Regards.Portal</c>; on <c>/metrics</c> with dots as underscores and the unit
/// as a suffix, e.g. <c>regards_download_bytes_total</c>). Counters are called where the thing happens; gauges read
/// <see cref="PortalFigures"/> (refreshed in the background) and the engine's heartbeat. Tags are small fixed sets
/// (status, tier, kind, reason): never an id, a user or an address.
/// </summary>
public sealed class PortalMetrics
{
    public const string MeterName = "Regards.Portal";

    private readonly Histogram<double> stagingDuration;
    private readonly Counter<long> restoreFailures;
    private readonly Counter<long> downloadBytes;
    private readonly Counter<long> downloadFiles;
    private readonly Counter<long> downloadsRefused;
    private readonly Counter<long> mailsQueued;
    private readonly Counter<long> mailsSent;
    private readonly Counter<long> mailsGivenUp;
    private readonly Counter<long> leaseTakeovers;

    public PortalMetrics(IMeterFactory meterFactory, PortalFigures figures, EngineHeartbeat heartbeat, TimeProvider time)
    {
        var meter = meterFactory.Create(MeterName, PortalTelemetry.Version);
        stagingDuration = meter.CreateHistogram("regards.staging.duration", "s",
            "Time to make a sub-order's files readable (a nearline restore, an online check), by storage tier.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] });
        restoreFailures = meter.CreateCounter<long>("regards.staging.failures", "{file}", "Files the storage could not make readable, by tier.");
        downloadBytes = meter.CreateCounter<long>("regards.download.bytes", "By", "Bytes taken by download clients, by kind (zip, file, metalink).");
        downloadFiles = meter.CreateCounter<long>("regards.download.files", "{file}", "Files delivered whole: entries of complete zips, single files (metalink clients fetch each file as a single file).");
        downloadsRefused = meter.CreateCounter<long>("regards.download.refused", "{request}", "Download requests refused, by reason (quota, concurrency, not_ready, not_ready_too_often).");
        mailsQueued = meter.CreateCounter<long>("regards.mail.queued", "{mail}", "Mails put in the outbox.");
        mailsSent = meter.CreateCounter<long>("regards.mail.sent", "{mail}", "Mails handed to the SMTP server (or the pickup folder).");
        mailsGivenUp = meter.CreateCounter<long>("regards.mail.given_up", "{mail}", "Mails given up after their last attempt.");
        leaseTakeovers = meter.CreateCounter<long>("regards.engine.lease_takeovers", "{job}", "Jobs whose lease had expired (a dead or stuck instance) taken over, by job (completion, staging).");

        meter.CreateObservableGauge("regards.orders", () => Figures(figures, s => s.OrdersByStatus.Select(kv => new Measurement<int>(kv.Value, new KeyValuePair<string, object?>("status", kv.Key)))),
            "{order}", "Orders by status.");
        meter.CreateObservableGauge("regards.suborders", () => Figures<int>(figures, s =>
            [
                new Measurement<int>(s.SubOrdersQueued, new KeyValuePair<string, object?>("state", "queued")),
                new Measurement<int>(s.SubOrdersStaging, new KeyValuePair<string, object?>("state", "staging")),
                new Measurement<int>(s.SubOrdersWaitingForUser, new KeyValuePair<string, object?>("state", "waiting_user")),
            ]), "{suborder}", "Sub-orders queued, staging, and waiting for their user to download.");
        meter.CreateObservableGauge("regards.mail.outbox", () => Figures<int>(figures, s =>
            [
                new Measurement<int>(s.MailsWaiting, new KeyValuePair<string, object?>("state", "waiting")),
                new Measurement<int>(s.MailsGivenUp, new KeyValuePair<string, object?>("state", "given_up")),
            ]), "{mail}", "Mails in the outbox: waiting to be sent, given up.");
        meter.CreateObservableGauge("regards.storage.free", () => Figures(figures, s => s.Volumes.Select(v => new Measurement<long>(v.FreeBytes, new KeyValuePair<string, object?>("folder", v.Name)))),
            "By", "Free bytes on the volumes of the storage and cache folders.");
        meter.CreateObservableGauge("regards.engine.loop.lag", () => heartbeat.Last is { } last ? [new Measurement<double>((time.GetUtcNow() - last).TotalSeconds)] : Array.Empty<Measurement<double>>(),
            "s", "Time since the order engine's loop last went round on this instance (it goes round at least every Orders:PollInterval).");
    }

    private static IEnumerable<Measurement<T>> Figures<T>(PortalFigures figures, Func<PortalSnapshot, IEnumerable<Measurement<T>>> read) where T : struct =>
        figures.Current is { } snapshot ? read(snapshot) : [];

    public void Staged(StorageTier tier, TimeSpan duration, int failedFiles)
    {
        var tag = new KeyValuePair<string, object?>("tier", Name(tier));
        stagingDuration.Record(duration.TotalSeconds, tag);
        if (failedFiles > 0)
        {
            restoreFailures.Add(failedFiles, tag);
        }
    }

    /// <summary>Bytes a download response delivered, whether it completed or was cut.</summary>
    public void ServedBytes(DownloadKind kind, long bytes) => downloadBytes.Add(bytes, new KeyValuePair<string, object?>("kind", Name(kind)));

    /// <summary>Files that reached their recipient whole (a complete zip's entries, a file whose every byte arrived).</summary>
    public void ServedFiles(DownloadKind kind, int files) => downloadFiles.Add(files, new KeyValuePair<string, object?>("kind", Name(kind)));

    public void Refused(string reason) => downloadsRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void MailQueued() => mailsQueued.Add(1);

    public void MailsSent(int count)
    {
        if (count > 0)
        {
            mailsSent.Add(count);
        }
    }

    public void MailGivenUp() => mailsGivenUp.Add(1);

    /// <summary>A claim took over a job whose lease had expired (<paramref name="job"/>: completion, staging).</summary>
    public void LeaseTakenOver(string job) => leaseTakeovers.Add(1, new KeyValuePair<string, object?>("job", job));

    private static string Name(StorageTier tier) => tier.ToString().ToLowerInvariant();

    private static string Name(DownloadKind kind) => kind.ToString().ToLowerInvariant();
}
