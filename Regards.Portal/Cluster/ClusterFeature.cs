namespace Regards.Portal.Cluster;

public static class ClusterFeature
{
    public static IServiceCollection AddCluster(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ClusterOptions>().Bind(configuration.GetSection(ClusterOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ChangeFeed>();
        services.AddSingleton<ChangeFeedListener>();
        services.AddHostedService(sp => sp.GetRequiredService<ChangeFeedListener>());
        return services;
    }
}
