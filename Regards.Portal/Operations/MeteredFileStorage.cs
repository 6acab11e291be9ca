using Regards.Portal.Catalog;
using Regards.Portal.Storage;

namespace Regards.Portal.Operations;

/// <summary>
/// The storage as the engine sees it, measured: each staging request's duration (by the slowest tier in it: nearline
/// before online) and the files it could not make readable, and a span of the order's trace around it. Everything
/// else goes straight through.
/// </summary>
internal sealed class MeteredFileStorage(IFileStorage inner, PortalMetrics metrics, TimeProvider time) : IFileStorage
{
    public async Task<IReadOnlyList<StagingOutcome>> StageAsync(long orderId, IReadOnlyList<StorageFileRef> files, CancellationToken cancellationToken)
    {
        var tier = files.Any(f => f.Tier == StorageTier.Nearline) ? StorageTier.Nearline : StorageTier.Online;
        using var activity = PortalTelemetry.StartChildActivity("storage.stage", orderId);
        activity?.SetTag("regards.storage.tier", tier.ToString().ToLowerInvariant());
        activity?.SetTag("regards.files", files.Count);
        var started = time.GetTimestamp();
        try
        {
            var outcomes = await inner.StageAsync(orderId, files, cancellationToken);
            var failed = outcomes.Count(o => !o.Success);
            metrics.Staged(tier, time.GetElapsedTime(started), failed);
            activity?.SetTag("regards.files.failed", failed);
            return outcomes;
        }
        catch (Exception e)
        {
            activity.Failed(e);
            throw;
        }
    }

    public bool IsReadable(long orderId, StorageFileRef file) => inner.IsReadable(orderId, file);

    public Stream OpenRead(long orderId, StorageFileRef file) => inner.OpenRead(orderId, file);

    public void Prefetch(long orderId, StorageFileRef file) => inner.Prefetch(orderId, file);

    public Stream CreateOrderOutput(long orderId, string relativeName, out string location) => inner.CreateOrderOutput(orderId, relativeName, out location);

    public void DeleteOrderOutput(long orderId, string location) => inner.DeleteOrderOutput(orderId, location);

    public Task ReleaseOrderAsync(long orderId, CancellationToken cancellationToken) => inner.ReleaseOrderAsync(orderId, cancellationToken);
}

internal static class FileStorageDecoration
{
    /// <summary>Wraps the registered <see cref="IFileStorage"/> (whatever it is) in <see cref="MeteredFileStorage"/>.</summary>
    public static IServiceCollection DecorateFileStorage(this IServiceCollection services)
    {
        var registered = services.LastOrDefault(d => d.ServiceType == typeof(IFileStorage))
            ?? throw new InvalidOperationException("AddStorage must come before AddPortalTelemetry.");
        services.Remove(registered);
        services.Add(ServiceDescriptor.Describe(typeof(IFileStorage), sp =>
        {
            var inner = registered.ImplementationInstance as IFileStorage
                ?? registered.ImplementationFactory?.Invoke(sp) as IFileStorage
                ?? (IFileStorage)ActivatorUtilities.CreateInstance(sp, registered.ImplementationType!);
            return new MeteredFileStorage(inner, sp.GetRequiredService<PortalMetrics>(), sp.GetRequiredService<TimeProvider>());
        }, registered.Lifetime));
        return services;
    }
}
