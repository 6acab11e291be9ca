namespace Regards.Portal.Infrastructure;

/// <summary>A row guarded by optimistic concurrency: <see cref="Version"/> is bumped on every tracked save.
/// Bulk updates (ExecuteUpdate) must bump it themselves.</summary>
public interface IVersioned
{
    long Version { get; set; }
}
