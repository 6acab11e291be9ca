namespace Regards.Portal.Orders;

public static class OrdersFeature
{
    public static IServiceCollection AddOrders(this IServiceCollection services, IConfiguration configuration)
    {
        return services;
    }

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder endpoints)
    {
        return endpoints;
    }
}
