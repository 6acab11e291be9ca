namespace Regards.Portal.Downloads;

public static class DownloadsFeature
{
    public static IServiceCollection AddDownloads(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DownloadOptions>().Bind(configuration.GetSection(DownloadOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OrderTokens>();
        services.AddSingleton<DownloadQuotas>();
        services.AddSingleton<Cluster.IRemoteChangeHandler, QuotaChangeRelay>();
        services.AddSingleton<DownloadSlots>();
        services.AddHostedService(sp => sp.GetRequiredService<DownloadSlots>());
        services.AddSingleton<DeliveryLedger>();
        services.AddSingleton<StallWatchdog>();
        services.AddSingleton<NotReadyThrottle>();
        services.AddSingleton(sp => new FileLookupCache(sp.GetRequiredService<Orders.OrderChangeNotifier>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<DownloadOptions>>().Value.FileLookupLifetime));
        services.AddSingleton<DownloadService>();
        return services;
    }

    public static IEndpointRouteBuilder MapDownloadsApi(this IEndpointRouteBuilder endpoints) => endpoints.MapDownloadsEndpoints();
}
