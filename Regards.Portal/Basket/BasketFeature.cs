namespace Regards.Portal.Basket;

public static class BasketFeature
{
    public static IServiceCollection AddBasket(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<BasketOptions>().Bind(configuration.GetSection(BasketOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<BasketChangeNotifier>();
        services.AddSingleton<BasketService>();
        services.AddSingleton<Cluster.IRemoteChangeHandler, BasketChangeRelay>();
        services.AddSingleton<BasketObjectSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<BasketObjectSweeper>());
        return services;
    }

    public static IEndpointRouteBuilder MapBasketApi(this IEndpointRouteBuilder endpoints) => endpoints.MapBasketEndpoints();
}
