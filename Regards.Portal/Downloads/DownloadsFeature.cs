namespace Regards.Portal.Downloads;

public static class DownloadsFeature
{
    public static IServiceCollection AddDownloads(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DownloadOptions>().Bind(configuration.GetSection(DownloadOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OrderTokens>();
        services.AddSingleton<DownloadQuotas>();
        services.AddSingleton<DownloadService>();
        return services;
    }

    public static IEndpointRouteBuilder MapDownloadsApi(this IEndpointRouteBuilder endpoints) => endpoints.MapDownloadsEndpoints();
}
