using Regards.Portal.Basket;
using Regards.Portal.Basket.Components;
using Regards.Portal.Processing.Processings;

namespace Regards.Portal.Processing;

public static class ProcessingFeature
{
    /// <summary>The processing catalogue and its plug-ins; a new processing is one more <see cref="IProcessing"/> registration.</summary>
    public static IServiceCollection AddProcessing(this IServiceCollection services)
    {
        services.AddSingleton<IProcessing, CompressProcessing>();
        services.AddSingleton<IProcessing, ChecksumManifestProcessing>();
        services.AddSingleton<IProcessing, SubsetProcessing>();
        services.AddSingleton<ProcessingCatalog>();
        services.AddSingleton<ProcessingWords>();
        services.AddSingleton<IProcessingChoiceDescriber>(sp => sp.GetRequiredService<ProcessingWords>());
        services.AddSingleton<IProcessingChoiceValidator>(sp => sp.GetRequiredService<ProcessingCatalog>());
        services.AddSingleton<ProcessingRunner>();
        // The cart's Process button comes from this feature, so the cart does not depend on it.
        CartExtensions.ProcessButton = slot => builder =>
        {
            builder.OpenComponent<Components.ProcessButton>(0);
            builder.AddComponentParameter(1, nameof(Components.ProcessButton.Caller), slot.Caller);
            builder.AddComponentParameter(2, nameof(Components.ProcessButton.Selection), slot.Selection);
            builder.CloseComponent();
        };
        return services;
    }

    public static IEndpointRouteBuilder MapProcessingApi(this IEndpointRouteBuilder endpoints) => endpoints.MapProcessingEndpoints();
}
