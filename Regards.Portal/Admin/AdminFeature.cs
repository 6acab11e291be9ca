namespace Regards.Portal.Admin;

public static class AdminFeature
{
    public static IServiceCollection AddAdmin(this IServiceCollection services)
    {
        services.AddSingleton<UiModuleService>();
        services.AddSingleton<PortalSettingsService>();
        services.AddSingleton<AdminDashboardService>();
        services.AddSingleton<Cluster.IRemoteChangeHandler, SettingsChangeRelay>();
        services.AddSingleton<Cluster.IRemoteChangeHandler, ModuleChangeRelay>();
        return services;
    }
}
