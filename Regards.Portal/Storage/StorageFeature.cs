namespace Regards.Portal.Storage;

public static class StorageFeature
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        return services;
    }
}
