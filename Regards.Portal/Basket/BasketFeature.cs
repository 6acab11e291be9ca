namespace Regards.Portal.Basket;

public static class BasketFeature
{
    public static IServiceCollection AddBasket(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    public static IEndpointRouteBuilder MapBasketApi(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
