namespace Regards.Portal.Orders;

public static class OrdersFeature
{
    public static IServiceCollection AddOrders(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OrdersOptions>().Bind(configuration.GetSection(OrdersOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<EngineSignal>();
        services.AddSingleton<OrderChangeNotifier>();
        services.AddSingleton<Cluster.IRemoteChangeHandler, OrderChangeRelay>();
        services.AddSingleton<OrderProgress>();
        services.AddSingleton<IOrderFileEvents>(sp => sp.GetRequiredService<OrderProgress>());
        services.AddSingleton<OrderCompletion>();
        services.AddSingleton<Basket.IOrderCompletionsUnderway, OrderCompletionsUnderway>();
        services.AddSingleton<OrderEngine>();
        services.AddHostedService(sp => sp.GetRequiredService<OrderEngine>());
        services.AddSingleton<OrderSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<OrderSweeper>());
        services.AddSingleton<OrderService>();
        services.AddSingleton<OrderSituations>();
        services.AddSingleton<AutoOrderService>();
        services.AddSingleton<OrderCsvExporter>();
        services.AddSingleton<OrderStatistics>();
        return services;
    }

    public static IEndpointRouteBuilder MapOrdersApi(this IEndpointRouteBuilder endpoints) => endpoints.MapOrdersEndpoints();
}
