using Microsoft.Extensions.Options;
using Regards.Portal.Data;
using Regards.Portal.Orders;

namespace Regards.Portal.Operations;

/// <summary>Marker for the System page's localised texts.</summary>
public sealed class OperationsText;

/// <summary>What the engine of this instance is doing, for a person.</summary>
public enum EngineState
{
    /// <summary>Its loop went round within <see cref="HealthOptions.EngineStaleAfter"/>.</summary>
    Running,
    /// <summary>On, but its loop has not gone round for too long (or ever).</summary>
    Stale,
    /// <summary>Off on this instance (<c>Orders:EngineEnabled</c>).</summary>
    Off,
}

/// <summary>The System page's figures: the process, the engine, and the same database figures as the gauges.</summary>
public sealed record SystemStatus(
    string Version,
    DateTimeOffset StartedAt,
    TimeSpan Uptime,
    DatabaseProvider DatabaseProvider,
    string Instance,
    EngineState Engine,
    DateTimeOffset? EngineLastLoop,
    PortalSnapshot Figures);

/// <summary>Reads <see cref="SystemStatus"/>: fresh database figures (the gauges' query), the heartbeat, the process.</summary>
public sealed class SystemStatusService(
    PortalFigures figures,
    EngineHeartbeat heartbeat,
    OrderEngine engine,
    IOptions<OrdersOptions> orders,
    IOptions<DatabaseOptions> database,
    IOptions<HealthOptions> health,
    TimeProvider time)
{
    private static readonly DateTimeOffset ProcessStart = new(System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero);

    public async Task<SystemStatus> GetAsync(CancellationToken cancellationToken = default)
    {
        var snapshot = await figures.RefreshAsync(cancellationToken);
        var now = time.GetUtcNow();
        var last = heartbeat.Last;
        var state = !orders.Value.EngineEnabled ? EngineState.Off
            : last is { } at && now - at <= health.Value.EngineStaleAfter ? EngineState.Running
            : EngineState.Stale;
        return new SystemStatus(PortalTelemetry.Version, ProcessStart, now - ProcessStart, database.Value.Provider, engine.InstanceId, state, last, snapshot);
    }
}
