namespace Regards.Portal.Infrastructure;

/// <summary>The name a background loop writes in the leases it takes: readable (machine, process) and unique per start.</summary>
public static class LeaseOwnerId
{
    public static string New() => $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";
}
