using Microsoft.Extensions.Options;
using Regards.Portal.Data;

namespace Regards.Portal.Storage;

public static class StorageFeature
{
    public static IServiceCollection AddStorage(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        var dataPath = DatabaseSetup.ResolveDataPath(configuration, environment);
        services.AddOptions<StorageOptions>()
            .Bind(configuration.GetSection(StorageOptions.Section))
            .PostConfigure(o =>
            {
                o.Root = string.IsNullOrWhiteSpace(o.Root) ? Path.Combine(dataPath, "storage") : Path.GetFullPath(o.Root, environment.ContentRootPath);
                o.CachePath = string.IsNullOrWhiteSpace(o.CachePath) ? Path.Combine(dataPath, "cache") : Path.GetFullPath(o.CachePath, environment.ContentRootPath);
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<IFileStorage, LocalDiskStorage>();
        return services;
    }
}
