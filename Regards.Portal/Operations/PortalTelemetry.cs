using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Regards.Portal.Identity;
using Regards.Portal.Storage;

namespace Regards.Portal.Operations;

public sealed class TelemetryOptions
{
    public const string Section = "Telemetry";

    /// <summary>
    /// Networks (CIDR such as <c>10.0.0.0/24</c>, or single addresses) whose clients read <c>/metrics</c> without
    /// signing in: the Prometheus server's. Empty: administrators only.
    /// </summary>
    public List<string> MetricsNetworks { get; set; } = [];

    /// <summary>Traces are recorded when an OTLP endpoint is set (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>) or when this is true.</summary>
    public bool Tracing { get; set; }

    /// <summary>How often the figures read from the database (orders by status, queues, outbox) are refreshed.</summary>
    public TimeSpan FiguresRefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    internal IReadOnlyList<IPNetwork> Networks => MetricsNetworks.Select(n => ParseNetwork(n)!.Value).ToList();

    internal static IPNetwork? ParseNetwork(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        text = text.Trim();
        if (IPNetwork.TryParse(text, out var network))
        {
            return network;
        }
        return IPAddress.TryParse(text, out var address)
            ? new IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128)
            : null;
    }
}

/// <summary>
/// OpenTelemetry for the operator: metrics (the portal's own <see cref="PortalMetrics"/>, ASP.NET Core, HttpClient,
/// runtime) on a Prometheus scrape endpoint and by OTLP; traces (the portal's <see cref="Source"/>, ASP.NET Core,
/// HttpClient, EF Core) by OTLP. Every span of one order is in that order's trace (<see cref="OrderTraceId"/>).
/// Span tags carry ids only: never a token, an e-mail address or a query string.
/// </summary>
public static class PortalTelemetry
{
    public const string SourceName = "Regards.Portal";
    public const string MetricsPolicy = "MetricsReader";
    public const string OrderIdTag = "regards.order.id";
    public const string SubOrderIdTag = "regards.suborder.id";

    public static readonly ActivitySource Source = new(SourceName, Version);

    /// <summary>Series per metric stream beyond which OpenTelemetry folds new tag sets into one overflow series.</summary>
    internal const int DefaultCardinalityLimit = 100;

    /// <summary>Streams tagged by route, method and status code (or by remote host), which keep OpenTelemetry's 2 000.</summary>
    internal static readonly HashSet<string> HighCardinalityInstruments =
        ["http.server.request.duration", "http.client.request.duration", "aspnetcore.routing.match_attempts", "http.server.active_requests"];

    public static string Version =>
        typeof(PortalTelemetry).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static IServiceCollection AddPortalTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TelemetryOptions>().Bind(configuration.GetSection(TelemetryOptions.Section))
            .Validate(o => o.MetricsNetworks.All(n => TelemetryOptions.ParseNetwork(n) is not null),
                "Telemetry:MetricsNetworks: each entry is a network in CIDR notation (10.0.0.0/24) or an IP address.")
            .Validate(o => o.FiguresRefreshInterval >= TimeSpan.FromSeconds(1), "Telemetry:FiguresRefreshInterval is at least 1 s.")
            .ValidateOnStart();
        services.AddSingleton<PortalFigures>();
        services.AddHostedService<PortalFiguresRefresher>();
        services.AddSingleton<PortalMetrics>();
        services.AddSingleton<SystemStatusService>();
        services.DecorateFileStorage();

        var otlp = !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("regards-portal", serviceVersion: Version))
            .WithMetrics(metrics => metrics
                .AddMeter(PortalMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                // OpenTelemetry allocates every stream's 2 000 points up front (11 MB for the ~60 streams here, most of
                // the idle server's managed heap). The portal's tags and the runtime's take a few values each; only the
                // per-route HTTP figures can take many, and they keep the default.
                .AddView(instrument => HighCardinalityInstruments.Contains(instrument.Name)
                    ? null
                    : new MetricStreamConfiguration { CardinalityLimit = DefaultCardinalityLimit })
                // A scrape reads the figures as they are (Prometheus scrapes every 15 s or so; no cached answer).
                .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0));
        // Spans of every request and query cost CPU: recorded only when someone receives them.
        if (otlp || configuration.GetValue<bool>($"{TelemetryOptions.Section}:Tracing"))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(SourceName)
                .AddAspNetCoreInstrumentation(o =>
                {
                    o.Filter = context => !context.Request.Path.StartsWithSegments("/metrics") && !context.Request.Path.StartsWithSegments("/health")
                                          && !context.Request.Path.StartsWithSegments("/_framework") && !context.Request.Path.StartsWithSegments("/_blazor");
                    // Download links carry tokens in their query (orderToken, token): the query never goes into a span.
                    o.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                })
                .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = (activity, request) =>
                {
                    if (request.RequestUri is { Query.Length: > 0 } uri)
                    {
                        activity.SetTag("url.full", uri.GetLeftPart(UriPartial.Path));
                    }
                })
                .AddEntityFrameworkCoreInstrumentation());
        }
        if (otlp)
        {
            // Endpoint, protocol, headers and the rest from the standard OTEL_EXPORTER_OTLP_* variables.
            telemetry.UseOtlpExporter();
        }

        // Logs: with Logging:Console:FormatterName=json each line is a JSON object; give it a UTC time unless configured.
        services.Configure<JsonConsoleFormatterOptions>(o =>
        {
            if (o.TimestampFormat is null)
            {
                o.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                o.UseUtcTimestamp = true;
            }
        });

        services.AddAuthorizationBuilder().AddPolicy(MetricsPolicy, policy => policy.RequireAssertion(context =>
            context.User.IsInRole(PortalRoles.Admin) || context.User.IsInRole(PortalRoles.ProjectAdmin)
            || (context.Resource is HttpContext http && http.Connection.RemoteIpAddress is { } remote
                && http.RequestServices.GetRequiredService<IOptions<TelemetryOptions>>().Value.Networks.Any(n => n.Contains(remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote)))));
        return services;
    }

    /// <summary><c>/metrics</c>: Prometheus text, for administrators and the networks of <see cref="TelemetryOptions.MetricsNetworks"/>.</summary>
    public static void MapPortalMetrics(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(MetricsPolicy);

    /// <summary>
    /// The trace of an order: derived from its id, so that its completion, its sub-orders' staging (on any instance,
    /// after any restart) and its zips are found together, with no column to store a trace context in.
    /// </summary>
    public static ActivityTraceId OrderTraceId(long orderId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"regards-order:{orderId}"), hash);
        return ActivityTraceId.CreateFromBytes(hash[..16]);
    }

    /// <summary>A span of the order's trace (no parent span), linked to the caller's span if there is one (an HTTP request).</summary>
    public static Activity? StartOrderActivity(string name, long orderId, long? subOrderId = null)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var caller = Activity.Current;
        var links = caller is null ? null : new[] { new ActivityLink(caller.Context) };
        // A span id of zeros: the span is a root of the order's trace.
        var order = new ActivityContext(OrderTraceId(orderId), default, ActivityTraceFlags.Recorded, isRemote: true);
        var activity = Source.StartActivity(name, ActivityKind.Internal, order, links: links);
        activity?.SetTag(OrderIdTag, orderId);
        if (subOrderId is { } id)
        {
            activity?.SetTag(SubOrderIdTag, id);
        }
        return activity;
    }

    /// <summary>A span under the current one (e.g. a processing execution within its sub-order's staging).</summary>
    public static Activity? StartChildActivity(string name, long orderId, long? subOrderId = null)
    {
        var activity = Source.StartActivity(name);
        activity?.SetTag(OrderIdTag, orderId);
        if (subOrderId is { } id)
        {
            activity?.SetTag(SubOrderIdTag, id);
        }
        return activity;
    }

    /// <summary>Marks the span failed (the exception's type only: its message may hold paths or SQL).</summary>
    public static void Failed(this Activity? activity, Exception exception) =>
        activity?.SetStatus(ActivityStatusCode.Error, exception.GetType().Name);
}
