using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;
using Regards.Portal.Catalog;
using Regards.Portal.Operations;
using Regards.Portal.Orders;
using Regards.Portal.Tests.Infrastructure;
using static Regards.Portal.Tests.Orders.OrderTestKit;

namespace Regards.Portal.Tests.Operations;

/// <summary>
/// The meter and the spans are process-wide by name (every host's <c>Regards.Portal</c> meter reaches every listener,
/// and a host disposed stops the instruments of that name for all): these tests run alone, so that no other test's
/// downloads move the counters they read; the tests that start hosts of their own are in a class of their own.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "Telemetry";
}

/// <summary>The app with a fast engine, figures refreshed every second, and every span kept in memory.</summary>
public sealed class TelemetryFactory : PortalAppFactory
{
    public LockedList<Activity> Spans { get; } = new();

    public TelemetryFactory()
    {
        Settings["Storage:NearlineLatencyPerRequest"] = "00:00:00.100";
        Settings["Orders:PollInterval"] = "00:00:00.050";
        Settings["Telemetry:FiguresRefreshInterval"] = "00:00:01";
        Settings["Telemetry:Tracing"] = "true";
        ConfigureTestServices = services => services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
        StartKestrel();
    }
}

/// <summary>Metrics on <c>/metrics</c> (who may read them, what they count) and the spans of an order.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests(TelemetryFactory factory) : IClassFixture<TelemetryFactory>
{
    [Fact]
    public async Task After_a_nearline_order_and_its_zip_the_counters_moved_by_what_was_staged_and_sent()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var before = Prometheus.Parse(await ScrapeAsync(admin));

        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var order = await OrderUntilDoneAsync(user, new { datasetId = Sentinel, q = "_000" }, "metrics");
        await using var db = factory.CreateDbContext();
        var subOrders = await db.SubOrders.CountAsync(s => s.OrderId == order.Id() && !s.External);
        var files = await db.OrderFiles.CountAsync(f => f.OrderId == order.Id() && f.Tier != StorageTier.External);
        Assert.True(subOrders >= 1 && files >= 2, $"{subOrders} sub-orders, {files} files");

        var zip = await user.GetByteArrayAsync($"/api/user/orders/{order.Id()}/download");
        using (var archive = new ZipArchive(new MemoryStream(zip)))
        {
            Assert.Equal(files, archive.Entries.Count);
        }
        await WaitAsync(async () => (await FilesAsync(order.Id())).All(f => f == OrderFileState.Downloaded), 10, "the zipped files downloaded");

        var afterText = await ScrapeAsync(admin);
        var after = Prometheus.Parse(afterText);
        var delta = (string name, params (string, string)[] labels) => after.Sum(name, labels) - before.Sum(name, labels);
        Assert.True(after.Sum("regards_download_bytes_total") > 0, after.Dump("regards_"));
        Assert.Equal(zip.Length, delta("regards_download_bytes_total", ("kind", "zip")));
        Assert.Equal(files, delta("regards_download_files_total", ("kind", "zip")));
        Assert.Equal(0, delta("regards_download_bytes_total", ("kind", "file")));
        Assert.Equal(subOrders, delta("regards_staging_duration_seconds_count", ("tier", "nearline")));
        // At least the nearline latency (100 ms) per staging request.
        Assert.True(delta("regards_staging_duration_seconds_sum", ("tier", "nearline")) >= 0.1 * subOrders);
        Assert.Equal(0, delta("regards_staging_failures_total"));
        // The order's "ready" mail at least, each sent.
        Assert.True(delta("regards_mail_queued_total") >= 1);

        // The gauges follow the database (refreshed every second here).
        var done = await db.Orders.CountAsync(o => o.Status == OrderStatus.Done);
        await WaitAsync(async () => Prometheus.Parse(await ScrapeAsync(admin)).Sum("regards_orders", ("status", "DONE")) == done, 10, $"regards_orders{{status=DONE}} = {done}");
        var last = Prometheus.Parse(await ScrapeAsync(admin));
        Assert.True(last.Sum("regards_engine_loop_lag_seconds") < 5);
        Assert.True(last.Sum("regards_storage_free_bytes", ("folder", "storage")) > 0);
        // The standard instrumentations are there too.
        Assert.True(last.Sum("http_server_request_duration_seconds_count") > 0);
    }

    [Fact]
    public async Task A_file_asked_for_before_it_is_restored_counts_as_refused_not_ready_and_its_bytes_as_file_bytes()
    {
        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        var before = Prometheus.Parse(await ScrapeAsync(admin));
        await FillCartAsync(user, new { datasetId = Sentinel, q = "_00002" });
        var order = await CreateOrderAsync(user, "not-ready");
        // Before its completion the order has no file; right after it, the nearline files are PENDING for 100 ms or more.
        long fileId = 0;
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            fileId = await db.OrderFiles.Where(f => f.OrderId == order.Id() && f.Tier == StorageTier.Nearline).Select(f => f.Id).FirstOrDefaultAsync();
            return fileId != 0;
        }, 10, "the order's files");
        using (var early = await user.GetAsync($"/api/orders/files/{fileId}"))
        {
            if (early.StatusCode != HttpStatusCode.Accepted)
            {
                // Staged already (a slow test machine): the refusal is not what this run can show.
                Assert.Equal(HttpStatusCode.OK, early.StatusCode);
                return;
            }
        }
        await WaitForOrderAsync(user, order.Id(), o => o.Status() == "DONE");
        var bytes = await user.GetByteArrayAsync($"/api/orders/files/{fileId}");
        // Counted once the server saw the response through, as the file's state.
        await WaitAsync(async () =>
        {
            await using var db = factory.CreateDbContext();
            return await db.OrderFiles.AnyAsync(f => f.Id == fileId && f.State == OrderFileState.Downloaded);
        }, 10, "the file downloaded");

        var after = Prometheus.Parse(await ScrapeAsync(admin));
        Assert.Equal(1, after.Sum("regards_download_refused_total", ("reason", "not_ready")) - before.Sum("regards_download_refused_total", ("reason", "not_ready")));
        Assert.Equal(bytes.Length, after.Sum("regards_download_bytes_total", ("kind", "file")) - before.Sum("regards_download_bytes_total", ("kind", "file")));
        Assert.Equal(1, after.Sum("regards_download_files_total", ("kind", "file")) - before.Sum("regards_download_files_total", ("kind", "file")));
    }

    [Fact]
    public async Task Metrics_are_for_administrators_a_signed_in_user_and_an_anonymous_client_get_none()
    {
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        using var refused = await user.GetAsync("/metrics");
        // Refused as any page the caller may not see (the "not found" page).
        Assert.NotEqual(HttpStatusCode.OK, refused.StatusCode);
        Assert.DoesNotContain("regards_", await refused.Content.ReadAsStringAsync());

        // Sent to the sign-in page (a redirect, not followed here).
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = factory.StartKestrel() };
        using var anonymous = await noRedirect.GetAsync("/metrics");
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.DoesNotContain("regards_", await anonymous.Content.ReadAsStringAsync());

        var admin = await factory.CreateClientForAsync(DemoUsers.Admin);
        Assert.Contains("regards_engine_loop_lag_seconds", await ScrapeAsync(admin));
    }

    [Fact]
    public async Task The_spans_of_an_order_are_in_its_trace_tagged_with_its_ids_and_carry_no_token_or_address()
    {
        var user = await factory.CreateClientForAsync(DemoUsers.User);
        await FillCartAsync(user, new { datasetId = Sentinel, q = "_00003" });
        var selection = (await user.GetFromJsonAsync<JsonElement>("/api/order/basket")).Content().GetProperty("datasetSelections")[0].GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.OK, (await user.PutAsJsonAsync($"/api/order/basket/dataset/{selection}/updateProcessing",
            new { processBusinessId = "compress", parameters = new { level = "fastest" } })).StatusCode);
        var orderId = (await CreateOrderAsync(user, "traced")).Id();
        await WaitForOrderAsync(user, orderId, o => o.Status() == "DONE");
        using (var zip = await user.GetAsync($"/api/user/orders/{orderId}/download"))
        {
            Assert.Equal(HttpStatusCode.OK, zip.StatusCode);
        }
        // A public link with its token: the token must not reach any span.
        var metalink = await user.GetStringAsync($"/api/user/orders/{orderId}/metalink/download");
        var url = Regex.Match(metalink, @"<url[^>]*>([^<]+)</url>").Groups[1].Value.Replace("&amp;", "&");
        var token = Regex.Match(url, "orderToken=([^&]+)").Groups[1].Value;
        Assert.NotEmpty(token);
        Assert.Equal(HttpStatusCode.OK, (await factory.CreateAnonymousClient().GetAsync(url)).StatusCode);

        await using var db = factory.CreateDbContext();
        var subOrderIds = await db.SubOrders.Where(s => s.OrderId == orderId && !s.External).Select(s => s.Id).ToListAsync();
        var trace = PortalTelemetry.OrderTraceId(orderId);
        Activity[] spans = [];
        await WaitAsync(() =>
        {
            spans = factory.Spans.Snapshot();
            return Task.FromResult(spans.Any(s => s.OperationName == "order.zip" && s.TraceId == trace));
        }, 10, "the zip's span");
        var ofOrder = spans.Where(s => s.TraceId == trace).ToList();
        string? Tag(Activity s, string name) => s.GetTagItem(name)?.ToString();

        var completion = Assert.Single(ofOrder, s => s.OperationName == "order.completion");
        Assert.Equal(orderId.ToString(CultureInfo.InvariantCulture), Tag(completion, PortalTelemetry.OrderIdTag));
        var stagings = ofOrder.Where(s => s.OperationName == "suborder.staging").ToList();
        Assert.Equal(subOrderIds.Order(), stagings.Select(s => long.Parse(Tag(s, PortalTelemetry.SubOrderIdTag)!, CultureInfo.InvariantCulture)).Order());
        // Each staging holds its storage request and its processing execution, as children.
        foreach (var staging in stagings)
        {
            Assert.Contains(ofOrder, s => s.OperationName == "storage.stage" && s.ParentSpanId == staging.SpanId && Tag(s, "regards.storage.tier") == "nearline");
            Assert.Contains(ofOrder, s => s.OperationName == "processing.execution" && s.ParentSpanId == staging.SpanId && Tag(s, "regards.processing") == "compress");
        }
        // The zip is in the order's trace, linked to the request that asked for it.
        var zipSpan = Assert.Single(ofOrder, s => s.OperationName == "order.zip");
        var link = Assert.Single(zipSpan.Links);
        var request = Assert.Single(spans, s => s.SpanId == link.Context.SpanId);
        Assert.Equal($"/api/user/orders/{orderId}/download", Tag(request, "url.path"));
        // The standard instrumentations recorded the database work.
        Assert.Contains(spans, s => s.Source.Name.Contains("EntityFrameworkCore", StringComparison.Ordinal) || s.GetTagItem("db.system") is not null || s.GetTagItem("db.system.name") is not null);

        var leaks = spans.SelectMany(s => s.TagObjects.Select(t => (s.OperationName, t.Key, Value: t.Value?.ToString() ?? "")))
            .Where(t => t.Value.Contains(token, StringComparison.Ordinal) || t.Value.Contains(DemoUsers.User, StringComparison.OrdinalIgnoreCase) || t.Value.Contains("orderToken", StringComparison.Ordinal))
            .ToList();
        Assert.True(leaks.Count == 0, string.Join("\n", leaks));
    }

    private async Task<List<OrderFileState>> FilesAsync(long orderId)
    {
        await using var db = factory.CreateDbContext();
        return await db.OrderFiles.Where(f => f.OrderId == orderId && f.Tier != StorageTier.External).Select(f => f.State).ToListAsync();
    }

    private static async Task<string> ScrapeAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }
}

/// <summary><c>Telemetry:MetricsNetworks</c>: no sign-in needed from there; checked at start.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class MetricsNetworkTests
{
    [Fact]
    public async Task A_client_of_a_configured_network_reads_the_metrics_without_signing_in()
    {
        using var factory = new PortalAppFactory();
        factory.Settings["Telemetry:MetricsNetworks:0"] = "127.0.0.0/8";
        factory.StartKestrel();
        using var response = await factory.CreateAnonymousClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("regards_", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// OpenTelemetry allocates a stream's points up front: the portal's streams hold 100 series, the per-route HTTP ones
    /// keep OpenTelemetry's 2 000. Series past the limit are folded into one overflow series, not lost; a histogram keeps
    /// the buckets its instrument advises.
    /// </summary>
    [Fact]
    public async Task A_portal_stream_holds_100_series_and_the_per_route_http_one_more()
    {
        using var factory = new PortalAppFactory();
        factory.Settings["Telemetry:MetricsNetworks:0"] = "127.0.0.0/8";
        factory.StartKestrel();
        var client = factory.CreateAnonymousClient();
        (await client.GetAsync("/metrics")).EnsureSuccessStatusCode();

        using var meter = new System.Diagnostics.Metrics.Meter(PortalMetrics.MeterName);
        var portalStream = meter.CreateCounter<long>("regards.test.series");
        var routeStream = meter.CreateCounter<long>("http.server.request.duration");
        // A histogram under the limit keeps the buckets its instrument advises (as regards.staging.duration does).
        var advised = meter.CreateHistogram("regards.test.advised", "s", null,
            advice: new System.Diagnostics.Metrics.InstrumentAdvice<double> { HistogramBucketBoundaries = [0.25, 7] });
        advised.Record(1);
        for (var i = 0; i < 150; i++)
        {
            portalStream.Add(1, new KeyValuePair<string, object?>("value", i));
            routeStream.Add(1, new KeyValuePair<string, object?>("value", i));
        }

        var metrics = Prometheus.Parse(await client.GetStringAsync("/metrics"));
        var portal = metrics.Samples.Where(s => s.Name == "regards_test_series_total").ToList();
        Assert.Equal(PortalTelemetry.DefaultCardinalityLimit + 1, portal.Count); // and the overflow series
        Assert.Equal(150, portal.Sum(s => s.Value));
        Assert.Contains(portal, s => s.Labels.GetValueOrDefault("otel_metric_overflow") == "true");
        Assert.Equal(150, metrics.Samples.Count(s => s.Name == "http_server_request_duration_total"));
        Assert.Equal(["0.25", "7", "+Inf"], metrics.Samples.Where(s => s.Name == "regards_test_advised_seconds_bucket").Select(s => s.Labels["le"]).ToList());
    }

    [Fact]
    public void A_metrics_network_that_is_not_one_stops_the_start()
    {
        using var bad = new PortalAppFactory();
        bad.Settings["Telemetry:MetricsNetworks:0"] = "10.0.0.0/99";
        var error = Assert.Throws<OptionsValidationException>(() => bad.CreateClient());
        Assert.Contains("Telemetry:MetricsNetworks", error.Message);
    }
}

/// <summary>The Prometheus text format, read enough to add up a metric's samples with some labels.</summary>
public sealed class Prometheus(List<(string Name, Dictionary<string, string> Labels, double Value)> samples)
{
    private static readonly Regex Line = new(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)", RegexOptions.Compiled);
    private static readonly Regex Label = new(@"(?<key>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>(\\.|[^""\\])*)""", RegexOptions.Compiled);

    public static Prometheus Parse(string text) => new(text.Split('\n')
        .Where(l => l.Length > 0 && l[0] != '#')
        .Select(l => Line.Match(l)).Where(m => m.Success)
        .Select(m => (m.Groups["name"].Value,
            Label.Matches(m.Groups["labels"].Value).ToDictionary(l => l.Groups["key"].Value, l => l.Groups["value"].Value),
            double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture)))
        .ToList());

    public IReadOnlyList<(string Name, Dictionary<string, string> Labels, double Value)> Samples => samples;

    /// <summary>The samples whose name starts so, one a line (for assertion messages).</summary>
    public string Dump(string prefix) => string.Join("\n", samples.Where(s => s.Name.StartsWith(prefix, StringComparison.Ordinal))
        .Select(s => $"{s.Name}{{{string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}"))}}} {s.Value}"));

    /// <summary>The sum of the metric's samples having those labels (0 when there is none).</summary>
    public double Sum(string name, params (string Key, string Value)[] labels) =>
        samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value)).Sum(s => s.Value);
}

/// <summary>A list the exporter may add to while the test reads it.</summary>
public sealed class LockedList<T> : ICollection<T>
{
    private readonly List<T> items = [];

    public T[] Snapshot()
    {
        lock (items)
        {
            return [.. items];
        }
    }

    public void Add(T item)
    {
        lock (items)
        {
            items.Add(item);
        }
    }

    public void Clear()
    {
        lock (items)
        {
            items.Clear();
        }
    }

    public bool Contains(T item)
    {
        lock (items)
        {
            return items.Contains(item);
        }
    }

    public void CopyTo(T[] array, int arrayIndex)
    {
        lock (items)
        {
            items.CopyTo(array, arrayIndex);
        }
    }

    public bool Remove(T item)
    {
        lock (items)
        {
            return items.Remove(item);
        }
    }

    public int Count
    {
        get
        {
            lock (items)
            {
                return items.Count;
            }
        }
    }

    public bool IsReadOnly => false;

    public IEnumerator<T> GetEnumerator() => ((IEnumerable<T>)Snapshot()).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
