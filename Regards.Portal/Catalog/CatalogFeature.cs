namespace Regards.Portal.Catalog;

public static class CatalogFeature
{
    public static IServiceCollection AddCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<CatalogAccess>();
        services.AddSingleton<CatalogGenerator>();
        services.AddSingleton<CatalogService>();
        return services;
    }

    public static IEndpointRouteBuilder MapCatalogApi(this IEndpointRouteBuilder endpoints) => endpoints.MapCatalogEndpoints();
}
