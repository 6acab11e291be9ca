using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Notifications;
using Regards.Portal.Orders;
using Regards.Portal.Storage;

namespace Regards.Portal.Operations;

public sealed class HealthOptions
{
    public const string Section = "Health";

    /// <summary>Below this free space on the storage or cache volume the portal reports degraded.</summary>
    [Range(0, long.MaxValue)]
    public long MinFreeBytes { get; set; } = 1L << 30;

    /// <summary>The engine loop must have run within this time (it runs at least every Orders:PollInterval).</summary>
    public TimeSpan EngineStaleAfter { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A queued mail older than this, still unsent and not given up, means the outbox is stuck.</summary>
    public TimeSpan MailStuckAfter { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>When the order engine's loop last went round, for the readiness check.</summary>
public sealed class EngineHeartbeat(TimeProvider time)
{
    private long lastTicks;

    public DateTimeOffset? Last => Interlocked.Read(ref lastTicks) is var ticks and > 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public void Beat() => Interlocked.Exchange(ref lastTicks, time.GetUtcNow().UtcTicks);
}

/// <summary>The storage and cache folders take a file, and their volumes have room.</summary>
internal sealed class StorageHealthCheck(IOptions<StorageOptions> storage, IOptions<HealthOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        var problems = new List<string>();
        foreach (var (name, folder) in new[] { ("storage", storage.Value.Root), ("cache", storage.Value.CachePath) })
        {
            try
            {
                Directory.CreateDirectory(folder);
                var probe = Path.Combine(folder, $".health-{Guid.NewGuid():N}");
                File.WriteAllBytes(probe, [1]);
                File.Delete(probe);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                problems.Add($"the {name} folder cannot be written ({e.Message})");
            }
            var free = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(folder))!).AvailableFreeSpace;
            data[$"{name}FreeBytes"] = free;
            if (free < options.Value.MinFreeBytes)
            {
                problems.Add($"the {name} volume has {free:N0} bytes free (less than Health:MinFreeBytes)");
            }
        }
        return Task.FromResult(problems.Count == 0
            ? HealthCheckResult.Healthy("Storage and cache folders writable, with room.", data)
            : HealthCheckResult.Degraded(string.Join("; ", problems), data: data));
    }
}

/// <summary>The order engine's loop went round recently (a stuck or dead loop stages nothing).</summary>
public sealed class EngineHealthCheck(EngineHeartbeat heartbeat, IOptions<OrdersOptions> orders, IOptions<HealthOptions> options, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!orders.Value.EngineEnabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("The order engine is off on this instance (Orders:EngineEnabled)."));
        }
        var last = heartbeat.Last;
        var age = last is { } at ? time.GetUtcNow() - at : (TimeSpan?)null;
        var data = new Dictionary<string, object> { ["lastLoop"] = last?.ToString("O") ?? "never" };
        return Task.FromResult(age is { } a && a <= options.Value.EngineStaleAfter
            ? HealthCheckResult.Healthy("The order engine runs.", data)
            : HealthCheckResult.Degraded($"The order engine loop has not run for {(age is { } late ? $"{late.TotalSeconds:N0} s" : "ever")} (Health:EngineStaleAfter {options.Value.EngineStaleAfter}).", data: data));
    }
}

/// <summary>The mail outbox is being emptied: no mail waits longer than it should.</summary>
public sealed class MailOutboxHealthCheck(IDbContextFactory<PortalDbContext> dbFactory, IOptions<HealthOptions> options, TimeProvider time) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var before = time.GetUtcNow().UtcDateTime - options.Value.MailStuckAfter;
        var stuck = await db.OutboxMails.CountAsync(m => !m.GaveUp && m.CreatedAt < before, cancellationToken);
        var givenUp = await db.OutboxMails.CountAsync(m => m.GaveUp, cancellationToken);
        var data = new Dictionary<string, object> { ["waitingTooLong"] = stuck, ["givenUp"] = givenUp };
        return stuck == 0
            ? HealthCheckResult.Healthy("No mail waits too long.", data)
            : HealthCheckResult.Degraded($"{stuck} mail(s) queued for more than {options.Value.MailStuckAfter} (Health:MailStuckAfter): is the SMTP server reachable?", data: data);
    }
}

public static class PortalHealth
{
    public const string Ready = "ready";

    public static IServiceCollection AddPortalHealth(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HealthOptions>().Bind(configuration.GetSection(HealthOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EngineHeartbeat>();
        services.AddHealthChecks()
            .AddDbContextCheck<PortalDbContext>("database", tags: [Ready])
            .AddCheck<StorageHealthCheck>("storage", tags: [Ready])
            .AddCheck<EngineHealthCheck>("engine", tags: [Ready])
            .AddCheck<MailOutboxHealthCheck>("mail", tags: [Ready]);
        return services;
    }

    /// <summary>
    /// <c>/health</c>: liveness, nothing checked (the process answers). <c>/health/ready</c>: every check named, with its
    /// status and what it saw, as JSON; 503 when one is unhealthy, 200 when all are healthy or some degraded.
    /// </summary>
    public static void MapPortalHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health", new() { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new()
        {
            Predicate = check => check.Tags.Contains(Ready),
            ResponseWriter = WriteAsync,
        });
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new
            {
                name = e.Key,
                status = e.Value.Status.ToString(),
                description = e.Value.Description ?? e.Value.Exception?.GetType().Name,
                durationMs = Math.Round(e.Value.Duration.TotalMilliseconds, 1),
                data = e.Value.Data,
            }),
        }, cancellationToken: context.RequestAborted);
    }
}
