namespace Regards.Portal.Downloads;

public static class DownloadsFeature
{
    public static IServiceCollection AddDownloads(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    public static IEndpointRouteBuilder MapDownloadsApi(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
